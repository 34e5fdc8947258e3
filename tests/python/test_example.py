"""examples/ess_during_training.py runs to the end (few steps) and writes its PNG."""
import os
import subprocess
import sys

from conftest import SOURCE


def test_training_example_runs(tmp_path):
    out = tmp_path / "ess.png"
    p = subprocess.run([sys.executable, os.path.join(SOURCE, "examples", "ess_during_training.py"),
                        "--steps", "20", "--every", "10", "--batch", "8", "--out", str(out)],
                       capture_output=True, text=True, env=os.environ.copy())
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.splitlines() if l.startswith("step")]
    assert len(lines) == 3 and "utilization" in lines[-1]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
