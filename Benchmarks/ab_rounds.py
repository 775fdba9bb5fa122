"""What the A/B ratio scripts (pointwise_ab_ratio.py, engine_ab_ratio.py) share: the lines of
run_ab.sh's output, each with the side ("before" or "after") of the round it belongs to."""
import re, sys


def sided_lines():
    """(side, line) for every line after a "== round R: before|after" header, from argv[1] or stdin."""
    text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
    side = None
    for line in text.splitlines():
        m = re.match(r"== round \d+: (\w+)", line)
        if m:
            side = m.group(1)
        elif side is not None:
            yield side, line
