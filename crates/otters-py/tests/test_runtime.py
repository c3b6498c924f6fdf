"""The GIL is released during solves, and Ctrl-C interrupts a long solve promptly."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import otters


def slow_problem(n=1500):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def test_solves_release_the_gil():
    M = slow_problem(800)
    ticks = []
    done = threading.Event()

    def solve():
        otters.sinkhorn([], [], M, 1e-4 * M.max(), numItermax=300, stopThr=1e-30, warn=False)
        done.set()

    worker = threading.Thread(target=solve)
    worker.start()
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    worker.join()
    # The main thread kept running while the engine worked.
    assert len(ticks) > 20


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
def test_ctrl_c_interrupts_a_long_solve():
    M = slow_problem()
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        # A bounded budget (tens of seconds): a missed signal fails the timing check below
        # instead of hanging the suite.
        otters.sinkhorn([], [], M, 1e-4 * M.max(), numItermax=20_000, stopThr=1e-30, warn=False)
    elapsed = time.perf_counter() - start
    timer.cancel()
    assert elapsed < 0.5 + 1.0, f"took {elapsed:.2f} s to honour Ctrl-C"
    # The engine is usable afterwards.
    assert otters.sinkhorn([0.5, 0.5], [0.5, 0.5], np.eye(2), 0.1).shape == (2, 2)
