"""Runs Benchmarks/run_imagenet_probe.sh's comparison: per model, PyTorch double backprop
(imagenet_pyhessian.py --time, its own process) and then Hutch's Hutchinson probes
(SensitivityBenchmark --only probes, its own process) on the same exported model and batch, with the
same thread count; each side's peak RSS is its whole process's (os.wait4). Prints a table of seconds
per probe, the ratio PyTorch / Hutch (> 1: Hutch faster) and both peaks, and writes the raw output
(JSON with date, CPU, load before and after, every number) to --raw.
"""
import argparse, datetime, json, os, platform, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(argv):
    """stdout, exit status and peak RSS (MB) of one child process (reaped by wait4 for its rusage)."""
    with tempfile.TemporaryFile(mode="w+") as err:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        if p.returncode != 0:
            raise SystemExit(f"imagenet_probe.py: {' '.join(argv)} failed ({p.returncode}):\n{err.read()}")
    return out, usage.ru_maxrss / 1024


def cpu_name():
    """The model name, family and model, and the vector extensions the kernels choose between."""
    info = {}
    for line in open("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    if "model name" not in info:
        return platform.processor()
    flags = info.get("flags", "").split()
    vectors = "avx512f" if "avx512f" in flags else ("avx2" if "avx2" in flags else "no avx2")
    return f"{info['model name']} (family {info.get('cpu family', '?')}, model {info.get('model', '?')}, {vectors})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory of a release SensitivityBenchmark")
    ap.add_argument("--dir", required=True, help="exports (made with imagenet_pyhessian.py --export if missing)")
    ap.add_argument("--raw", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--per-call", type=int, default=4, help="Hutch probes per HVP call (hutch trace's default: 4)")
    ap.add_argument("--models", default="resnet20:128,mobilenet_v2:32,resnet18:32,resnet50:32")
    ap.add_argument("--torch-probes", default="2", help="PyTorch's timed probes per model (after one warm-up)")
    a = ap.parse_args()
    py = sys.executable
    torch_script = os.path.join(HERE, "imagenet_pyhessian.py")
    raw = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cpu": f"{cpu_name()}, {os.cpu_count()} cores",
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "uptime_before": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "threads": a.threads, "hutch_probes_per_call": a.per_call, "models": [],
    }
    print(f"{raw['date']}, {raw['cpu']}, {a.threads} threads; load: {raw['uptime_before']}")
    print(f"{'model':<13} {'batch':>5} {'PyTorch s/probe':>15} {'Hutch s/probe':>13} {'ratio':>6} "
          f"{'PyTorch peak MB':>15} {'Hutch peak MB':>13}")
    for spec in a.models.split(","):
        name, batch = spec.split(":")
        onnx, npz = os.path.join(a.dir, name + ".onnx"), os.path.join(a.dir, f"{name}_b{batch}.npz")
        if not (os.path.exists(onnx) and os.path.exists(npz)):
            run([py, torch_script, "--model", name, "--batch", batch, "--export", a.dir])
        out, torch_rss = run([py, torch_script, "--model", name, "--batch", batch, "--threads", str(a.threads),
                              "--probes", a.torch_probes, "--time", a.dir])
        torch_result = json.loads(out.strip().splitlines()[-1])
        k = str(a.per_call)
        out, hutch_rss = run([os.path.join(a.bin, "SensitivityBenchmark"), "--model", onnx, "--data", npz,
                              "--threads", str(a.threads), "--only", "probes", "--per-call", k, "--probes", k])
        m = re.search(r"per HVP call: ([0-9.]+) s/probe", out)
        if not m:
            raise SystemExit(f"imagenet_probe.py: no s/probe in SensitivityBenchmark's output:\n{out}")
        hutch = float(m.group(1))
        row = {"model": name, "batch": int(batch), "pytorch": torch_result, "pytorch_peak_rss_mb": torch_rss,
               "hutch_seconds_per_probe": hutch, "hutch_peak_rss_mb": hutch_rss, "hutch_output": out,
               "ratio_pytorch_over_hutch": torch_result["seconds_per_probe"] / hutch,
               "uptime_after": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}
        raw["models"].append(row)
        with open(a.raw, "w") as f:   # after every model, so that a stopped run keeps what it measured
            json.dump(raw, f, indent=1)
        print(f"{name:<13} {batch:>5} {torch_result['seconds_per_probe']:>15.3f} {hutch:>13.3f} "
              f"{row['ratio_pytorch_over_hutch']:>5.2f}x {torch_rss:>15.0f} {hutch_rss:>13.0f}   (load after: "
              f"{row['uptime_after'].split('load average:')[-1].strip()})", flush=True)
    raw["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    with open(a.raw, "w") as f:
        json.dump(raw, f, indent=1)
    print(f"raw output: {a.raw}; load after: {raw['uptime_after']}")


if __name__ == "__main__":
    main()
