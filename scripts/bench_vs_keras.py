"""Driver of scripts/bench-vs-keras.sh: the authors' Keras BS-Net, the same model in OpenVINO float32, and
`brixia bench --serve`, each in its own long-lived worker process, timed one image at a time interleaved
(round-robin with a rotating order, so no runtime always runs after the same one), batch 1, 2 threads.

  python bench_vs_keras.py convert OUT_DIR          # build the Keras model, export OpenVINO IR, check parity
  python bench_vs_keras.py worker keras|openvino    # line protocol: 'ready', then 'run' -> 'time S', EOF -> 'rss MiB'
  python bench_vs_keras.py drive --brixia BIN ...   # one condition: warm-ups, rounds, medians as JSON on stdout

The Keras model is built from the authors' code in ../shared (unchanged) with the parity weights
(same layout as the published bscore-model.h5); the timings do not depend on the weight values.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("BRIXIA_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
SRC = os.path.join(SHARED, "data", "reference", "bsnet-keras-src")
REF = os.path.join(SHARED, "data", "reference", "bsnet-keras")
WEIGHTS = os.path.join(REF, "bscore_scaled_weights.h5")
THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def bench_input():
    ref = os.path.join(REF, "input_cxr.npy")
    x = np.load(ref).astype(np.float32) if os.path.exists(ref) else np.random.default_rng(7).random((512, 512), np.float32)
    return x.reshape(1, 512, 512, 1)


def build_keras():
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    sys.path.insert(0, SRC)
    from BSNet.model import BSNet
    tf.keras.utils.set_random_seed(1234)
    _, _, bscore = BSNet(backbone_name="resnet18", input_shape=(512, 512, 1), load_seg_model=False,
                         load_align_model=False, load_bscore_model=False, encoder_weights=None)
    bscore.load_weights(WEIGHTS)
    return tf, bscore


def flat(outputs):
    outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(o, dtype=np.float32) for o in outs]


def convert(out_dir):
    """OpenVINO's TensorFlow frontend has no rule for the TensorList ops of `tf.map_fn` (the authors map
    `pool_rois` over the batch), and converting the SavedModel does not finish. So the IR is converted from the
    same model object traced at batch 1 with that map written out for its single element (the same ops on the
    same tensor), and checked against the unchanged Keras model's scores below."""
    import openvino as ov
    tf, model = build_keras()
    x = bench_input()
    ref = flat(model.predict(x, verbose=0))
    map_fn = tf.map_fn
    tf.map_fn = lambda fn, elems, **kw: tf.expand_dims(fn(elems[0]), 0)   # batch 1 only: the bench's batch
    try:
        traced = tf.function(lambda t: model(t, training=False),
                             input_signature=[tf.TensorSpec([1, 512, 512, 1], tf.float32)]).get_concrete_function()
    finally:
        tf.map_fn = map_fn
    ovm = ov.convert_model(traced)
    # Keep the score output only (the converter also exposes intermediate tensors as results).
    scores = [r for r in ovm.get_results() if tuple(r.get_output_partial_shape(0).to_shape()) == ref[0].shape]
    ovm = ov.Model(scores[:1], ovm.get_parameters(), "bsnet")
    ov.save_model(ovm, os.path.join(out_dir, "bsnet.xml"), compress_to_fp16=False)
    core = ov.Core()
    compiled = core.compile_model(os.path.join(out_dir, "bsnet.xml"), "CPU",
                                  {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": THREADS})
    res = compiled(x)
    got = [np.asarray(res[o], dtype=np.float32) for o in compiled.outputs]
    worst = 0.0
    for r in ref:
        cands = [g for g in got if g.shape == r.shape]
        if not cands:
            raise SystemExit(f"OpenVINO model has no output of shape {r.shape}")
        worst = max(worst, min(float(np.max(np.abs(g - r))) for g in cands))
    if worst > 1e-4:
        raise SystemExit(f"OpenVINO IR disagrees with Keras: max |difference| {worst:.3g} > 1e-4")
    with open(os.path.join(out_dir, "parity.json"), "w") as f:
        json.dump({"max_abs_diff_vs_keras": worst, "openvino": ov.__version__, "tensorflow": tf.__version__}, f)
    print(f"OpenVINO IR written to {out_dir}; max |OpenVINO - Keras| over all outputs = {worst:.3g}")


def worker(kind, ir_dir):
    x = bench_input()
    if kind == "keras":
        _, model = build_keras()
        step = lambda: model.predict(x, verbose=0)
    else:
        import openvino as ov
        core = ov.Core()
        compiled = core.compile_model(os.path.join(ir_dir, "bsnet.xml"), "CPU",
                                      {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": THREADS,
                                       "PERFORMANCE_HINT": "LATENCY"})
        request = compiled.create_infer_request()
        step = lambda: request.infer({0: x})
    for _ in range(int(os.environ.get("BENCH_WARMUP", "2"))):
        step()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            continue
        t = time.perf_counter()
        step()
        print(f"time {time.perf_counter() - t}", flush=True)
    print(f"rss {rss_mib()}", flush=True)


class Worker:
    def __init__(self, name, argv, env):
        self.name = name
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.times = []
        self.note = ""
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit(f"{name} worker exited before it was ready (exit {self.p.wait()})")
            if line.startswith("ready"):
                self.note = line.strip()
                break

    def run_once(self):
        self.p.stdin.write("run\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit(f"{self.name} worker died")
            if line.startswith("time "):
                self.times.append(float(line.split()[1]))
                return

    def finish(self):
        self.p.stdin.close()
        rss = None
        for line in self.p.stdout:
            if line.startswith("rss "):
                rss = int(line.split()[1])
        self.p.wait()
        return rss


def drive(args):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--brixia", required=True)
    ap.add_argument("--ir", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--label", default="")
    o = ap.parse_args(args)
    env = dict(os.environ, BENCH_WARMUP=str(o.warmup), OMP_NUM_THREADS=str(THREADS))
    me = [sys.executable, os.path.abspath(__file__)]
    brixia = [o.brixia, "bench", "--serve", "--threads", str(THREADS), "--warmup", str(o.warmup)]
    if os.path.exists(WEIGHTS):
        brixia += ["--weights-h5", WEIGHTS]
    # Started one after the other, so that no worker's start-up (TF import, compile) overlaps another's warm-up.
    # BENCH_RUNTIMES (default all three) can leave one out, e.g. while its conversion is not available.
    wanted = os.environ.get("BENCH_RUNTIMES", "keras,openvino,brixia").split(",")
    argv = {"keras": me + ["worker", "keras", o.ir], "openvino": me + ["worker", "openvino", o.ir], "brixia": brixia}
    workers = [Worker(name, argv[name], env) for name in ("keras", "openvino", "brixia") if name in wanted]
    for r in range(o.rounds):
        for i in range(len(workers)):
            workers[(r + i) % len(workers)].run_once()
    result = {"label": o.label, "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}
    for w in workers:
        rss = w.finish()
        result[w.name] = {"median": statistics.median(w.times), "min": min(w.times), "max": max(w.times),
                          "times": w.times, "rss_mib": rss, "note": w.note}
    print(json.dumps(result))


GFLOP = 2 * 94_173_835_084 / 1e9  # nominal BS-Net cost per 512x512 image (Keras count, docs/performance.md)


def report(args):
    """Markdown for docs/performance.md from the drive results (JSON lines) and the SGEMM reference."""
    results_file, sgemm_file = args
    rows = [json.loads(l) for l in open(results_file) if l.strip()]
    sgemm = {}
    for line in open(sgemm_file):
        if line.startswith("sgemm "):
            parts = line.split()
            sgemm[" ".join(parts[1:-2]).rstrip(":")] = float(parts[-2])
    best = max(sgemm.values()) if sgemm else float("nan")
    best2 = sgemm.get("openblas threads 2", best)
    parity = {}
    pj = os.environ.get("BENCH_PARITY_JSON")
    if pj and os.path.exists(pj):
        parity = json.load(open(pj))
    out = []
    out.append(f"| condition | OpenVINO f32 | Keras `predict` | Brixia (`{rows[0]['brixia']['note'].split()[1] if rows else ''}`) "
               f"| **OpenVINO / Brixia** | **Keras / Brixia** | Brixia GFLOP/s (vs best SGEMM 2 threads {best2:.0f}) "
               f"| peak RSS OpenVINO / Keras / Brixia |")
    out.append("|---|---|---|---|---|---|---|---|")
    missing = {"median": float("nan"), "min": float("nan"), "max": float("nan"), "rss_mib": "-", "times": []}
    for r in rows:
        k, v, b = r.get("keras", missing), r.get("openvino", missing), r["brixia"]
        fmt = lambda x: f"{x['median']:.3f} s ({x['min']:.3f}-{x['max']:.3f})" if x["times"] else "not run"
        g = GFLOP / b["median"]
        out.append(f"| {r['label']} | {fmt(v)} | {fmt(k)} | {fmt(b)} | **{v['median'] / b['median']:.2f}** "
                   f"| **{k['median'] / b['median']:.2f}** | {g:.0f} ({g / best2:.2f} x) "
                   f"| {v['rss_mib']} / {k['rss_mib']} / {b['rss_mib']} MiB |")
    out.append("")
    for r in rows:
        b = r["brixia"]["median"]
        ov, ke = r.get("openvino", missing)["median"] / b, r.get("keras", missing)["median"] / b
        rss = r["brixia"]["rss_mib"] or 0
        met = lambda x, goal: "not measured" if x != x else ("met" if x >= goal else "NOT met")
        out.append(f"- {r['label']}: OpenVINO / Brixia >= 1.5 {met(ov, 1.5)} ({ov:.2f}); Keras / Brixia >= 2 "
                   f"{met(ke, 2)} ({ke:.2f}); Brixia peak RSS <= 600 MB "
                   f"{'met' if rss * 1.048576 <= 600 else 'NOT met'} ({rss} MiB).")
    out.append("")
    out.append("SGEMM 1024^3 with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset (OpenBLAS self-detected): "
               + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in sgemm.items()) + ".")
    if parity:
        out.append(f"OpenVINO {parity.get('openvino')} float32 vs Keras (TF {parity.get('tensorflow')}): max |difference| over "
                   f"all outputs {parity.get('max_abs_diff_vs_keras'):.2g}.")
    out.append("Medians of %d interleaved rounds after %s warm-ups per worker; batch 1, %d threads each." %
               (len(rows[0]["brixia"]["times"]) if rows else 0, os.environ.get("BENCH_WARMUP", "2"), THREADS))
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "report":
        report(sys.argv[2:])
        sys.exit(0)
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    if sys.argv[1] == "convert":
        convert(sys.argv[2])
    elif sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "drive":
        drive(sys.argv[2:])
    else:
        raise SystemExit(__doc__)
