"""Why a mixed plan can lose to uniform precision at equal size on the example: the true loss change of
quantizing each layer alone (weights only, onnxruntime, all 450 examples of Examples/digits.npz) next to
the second-order prediction Omega/2 = Tr(H)/(2n) * ||Q_b(W) - W||^2 that the plan minimises, then the
uniform and mixed 3-bit plans (paths given as arguments: uniform3.json mixed3.json).

    /root/hutch-venv/bin/python Tests/Fixtures/export/compare_perturbation.py UNIFORM.json MIXED.json
    /root/hutch-venv/bin/python Tests/Fixtures/export/compare_perturbation.py --measured-json OUT.json

--measured-json writes only {"base_loss": L0, "layers": {node: {"b": dLoss}}} for b in 2,3,4,5,6,8, the
reference of `hutch trace --measured` (Tests/Fixtures/export/digits_measured.json).
"""
import json, numpy as np, onnx, onnxruntime as ort, sys
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from onnx import numpy_helper
m = onnx.load('Examples/digits_resnet.onnx'); d = np.load('Examples/digits.npz'); x, y = d['x'], d['y']
sens = json.load(open('Tests/Fixtures/export/digits_sensitivity.json'))
inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
def quant(w, b):
    moved = w.reshape(w.shape[0], -1).astype(np.float32)
    s = np.abs(moved).max(1, keepdims=True).astype(np.float32) / np.float32(2**(b-1)-1)
    return (np.clip(np.round(moved / s), -2**(b-1), 2**(b-1)-1) * s).reshape(w.shape).astype(np.float32)
def loss_acc(repl):
    mm = onnx.load('Examples/digits_resnet.onnx')
    for t in mm.graph.initializer:
        if t.name in repl: t.CopyFrom(numpy_helper.from_array(repl[t.name], t.name))
    z = ort.InferenceSession(mm.SerializeToString()).run(None, {'input': x})[0].astype(np.float64)
    z -= z.max(1, keepdims=True); lp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return -lp[np.arange(len(y)), y].mean(), (z.argmax(1) == y).mean()
L0, A0 = loss_acc({})
if sys.argv[1:2] == ['--measured-json']:
    table = {l['node']: {str(b): loss_acc({l['weight']: quant(inits[l['weight']], b)})[0] - L0 for b in (2, 3, 4, 5, 6, 8)}
             for l in sens['layers']}
    json.dump({'base_loss': L0, 'layers': table}, open(sys.argv[2], 'w'), indent=1, sort_keys=True)
    sys.exit(0)
print(f"float loss {L0:.4f} acc {A0:.4f}")
for l in sens['layers']:
    w = inits[l['weight']]
    for b in (2, 3, 4):
        L, A = loss_acc({l['weight']: quant(w, b)})
        omega = l['trace'] / l['parameters'] * l['quantization_error'][str(b)]
        print(f"{l['node']:28s} n={l['parameters']:5d} b={b} dLoss={L-L0:+.4f} Omega/2={omega/2:.4f} acc={A:.4f}")
for path in sys.argv[1:]:
    plan = json.load(open(path)); name = path
    repl = {e['weight']: quant(inits[e['weight']], e['weight_bits']) for e in plan['layers']}
    L, A = loss_acc(repl); print(f"{name}: bits {[e['weight_bits'] for e in plan['layers']]} dLoss={L-L0:+.4f} predicted Omega/2={plan['totals']['omega']/2:.4f} acc={A:.4f}")
