"""The soak's client processes (bench/soak_worker.py), as the parent drives them.

The protocol, parent → worker: ``("go",)`` starts the churn; ``("expect", pairs)`` adds
(agent, bet) cash-outs that every client of the agent must have by now and asks for the
counts; ``("finish", pairs, wait_s)`` stops the churn and waits until every client is
back and has everything; ``("stop",)``. Worker → parent: ``("connected", n, failures)``
once, then ``("stats", counts)`` per question, or ``("error", text)``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from typing import Any

from bench import soak_worker
from bench.stream import STREAMS_PER_PROCESS


class ClientProcesses:
    def __init__(
        self, port: int, clients: list[tuple[int, str]], churn_per_s: float, delay_s: float
    ) -> None:
        ctx = mp.get_context("spawn")
        size = STREAMS_PER_PROCESS
        chunks = [clients[i : i + size] for i in range(0, len(clients), size)]
        self.procs: list[tuple[Any, Any]] = []
        for seed, chunk in enumerate(chunks):
            parent, child = ctx.Pipe()
            job = soak_worker.Job(
                "127.0.0.1", port, chunk, churn_per_s / len(chunks), delay_s, seed
            )
            proc = ctx.Process(target=soak_worker.main, args=(job, child), daemon=True)
            proc.start()
            child.close()
            self.procs.append((proc, parent))

    @staticmethod
    def _recv(pipe: Any, timeout: float) -> Any:
        if not pipe.poll(timeout):
            raise TimeoutError("a soak client process did not answer in time")
        msg = pipe.recv()
        if msg[0] == "error":
            raise RuntimeError(f"soak client process failed: {msg[1]}")
        return msg

    def connected(self, timeout: float) -> tuple[int, dict[str, int]]:
        """Streams opened, and why others were not (every process, once)."""
        opened, failures = 0, {}
        for _, pipe in self.procs:
            _, ok, errs = self._recv(pipe, timeout)
            opened += ok
            failures.update(errs)
        return opened, failures

    def go(self) -> None:
        for _, pipe in self.procs:
            pipe.send(("go",))

    def ask(self, msg: tuple[Any, ...], timeout: float) -> dict[str, Any]:
        """Every process's counts, summed (of the settle times, the slowest)."""
        for _, pipe in self.procs:
            pipe.send(msg)
        total: dict[str, Any] = {"failures": {}}
        for _, pipe in self.procs:
            stats = self._recv(pipe, timeout)[1]
            for kind, n in stats.pop("failures").items():
                total["failures"][kind] = total["failures"].get(kind, 0) + n
            total["settle_s"] = max(total.get("settle_s", 0.0), stats.pop("settle_s", 0.0))
            for key, value in stats.items():
                total[key] = total.get(key, 0) + value
        return total

    def stop(self) -> None:
        for _, pipe in self.procs:
            with contextlib.suppress(OSError):  # a process that died has no pipe left
                pipe.send(("stop",))
        for proc, _ in self.procs:
            proc.join(15)
            if proc.is_alive():
                proc.kill()
