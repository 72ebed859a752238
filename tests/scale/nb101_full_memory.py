"""Scale check (not part of the test run): write a TFRecord with as many records as the
official ``nasbench_full.tfrecord`` (423,624 archs x 4 epoch budgets x 3 repeats =
5,083,488 records, ~2 GB) and convert it, to measure the converter's peak memory.

The records reuse the 30 real NB101 cells' graphs and metrics under unique synthetic
module hashes, so the file is converted with ``check_hash=False``; everything else (framing,
CRCs, JSON, base64 protobuf, streaming into preallocated arrays) is the real path.

    python tests/scale/nb101_full_memory.py write /tmp/nasbench_full_synth.tfrecord
    /usr/bin/time -v python tests/scale/nb101_full_memory.py convert \
        /tmp/nasbench_full_synth.tfrecord /tmp/nb101_synth.h5
"""

from __future__ import annotations

import base64
import json
import struct
import sys
import time
from pathlib import Path

import numpy as np

N_ARCHS, BUDGETS, REPEATS = 423_624, (4, 12, 36, 108), 3


def write(path: Path, data_root: Path) -> None:
    from adapters.nb101 import metrics_message_class
    from adapters.tfrecord import masked_crc
    from harness.data import safe_pickle

    cells = safe_pickle.load_path(data_root / "nb101-sample" / "nb101_dummy.pkl")
    Metrics, _ = metrics_message_class()
    protos = []
    for fixed, comp in cells.values():
        adj = "".join(str(int(x)) for x in np.asarray(fixed["module_adjacency"]).ravel())
        ops = ",".join(fixed["module_operations"])
        per_budget = []
        for epochs in BUDGETS:
            reps = []
            for rep in comp[108][:REPEATS]:
                msg = Metrics(trainable_parameters=fixed["trainable_parameters"],
                              total_time=rep["final_training_time"])
                msg.evaluation_data.add(current_epoch=0)
                for tag, ep in (("halfway", epochs / 2), ("final", epochs)):
                    msg.evaluation_data.add(
                        current_epoch=ep, training_time=rep[f"{tag}_training_time"],
                        train_accuracy=rep[f"{tag}_train_accuracy"],
                        validation_accuracy=rep[f"{tag}_validation_accuracy"],
                        test_accuracy=rep[f"{tag}_test_accuracy"])
                reps.append(base64.b64encode(msg.SerializeToString()).decode())
            per_budget.append(reps)
        protos.append((adj, ops, per_budget))
    t0 = time.perf_counter()
    with open(path, "wb") as fh:
        for i in range(N_ARCHS):
            adj, ops, per_budget = protos[i % len(protos)]
            h = f"{i:032x}"
            for b, epochs in enumerate(BUDGETS):
                for raw in per_budget[b]:
                    r = json.dumps([h, epochs, adj, ops, raw]).encode()
                    n = struct.pack("<Q", len(r))
                    fh.write(n + struct.pack("<I", masked_crc(n)) + r +
                             struct.pack("<I", masked_crc(r)))
            if i % 50_000 == 0:
                print(f"{i} archs, {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"wrote {path}: {path.stat().st_size / 2**30:.2f} GiB")


def convert(path: Path, out: Path) -> None:
    import resource

    from adapters.nb101 import convert_official

    t0 = time.perf_counter()
    convert_official(path, out, progress=lambda m: print(m, flush=True), check_hash=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"converted in {time.perf_counter() - t0:.0f} s; peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    if sys.argv[1] == "write":
        write(Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else
              Path(__file__).resolve().parents[3] / "shared" / "data")
    else:
        convert(Path(sys.argv[2]), Path(sys.argv[3]))
