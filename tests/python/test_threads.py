"""Long calls release the GIL, report progress on the calling thread, stop when the callback
raises and turn Ctrl+C into KeyboardInterrupt."""
import os
import signal
import threading

import numpy as np
import pytest


def long_operator(L=600, H=2):
    return np.tril(np.random.default_rng(0).standard_normal((H, L, L)))


def test_gil_is_released_during_a_curve(ess):
    T = long_operator()
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        while count[0] == 0:
            pass
        before = count[0]
        ess.curve(T, dtype="float32", threads=1)  # no progress callback: the GIL is never taken
        during = count[0] - before
    finally:
        stop.set()
        t.join()
    # Holding the GIL for the whole call would leave the other thread at (almost) zero.
    assert during > 1000, during


def test_progress_reaches_the_total_on_the_calling_thread(ess):
    calls = []
    main = threading.get_ident()
    c = ess.curve(long_operator(200, 1), progress=lambda d, t: calls.append((d, t, threading.get_ident())))
    assert calls and calls[-1][0] == calls[-1][1] == 199
    assert all(tid == main for _, _, tid in calls)
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls)
    assert c.tolerance_ess.shape == (1, 199)  # [H, S] for an [H, L, L] operator


def test_progress_that_raises_stops_and_propagates(ess):
    calls = []

    class Stop(Exception):
        pass

    def progress(done, total):
        calls.append((done, total))
        raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        ess.curve(long_operator(), dtype="float32", threads=1, progress=progress)
    assert len(calls) == 1 and calls[0][0] < calls[0][1]
    demo = os.path.join(os.environ.get("ESS_SOURCE_DIR", "."), "resources", "demo", "gla")
    with pytest.raises(Stop):
        ess.open(demo, input="mqar:seed=0,len=64,pairs=8").curve(0, algorithm="dense", progress=progress)


def test_ctrl_c_raises_keyboard_interrupt(ess):
    started = threading.Event()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        started.set()

    def interrupt():
        started.wait()
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=interrupt)
    t.start()
    with pytest.raises(KeyboardInterrupt):
        ess.curve(long_operator(1500, 4), dtype="float32", threads=1, progress=progress)
    t.join()
    assert seen and seen[-1][0] < seen[-1][1]


def test_progress_drives_a_tqdm_bar(ess):
    tqdm = pytest.importorskip("tqdm")
    import io
    bar = tqdm.tqdm(unit="split", file=io.StringIO())

    def progress(done, total):  # the adapter docs/python.md gives
        bar.total = total
        bar.update(done - bar.n)

    ess.curve(long_operator(120, 2), progress=progress)
    assert bar.n == bar.total == 2 * 119
    bar.close()
