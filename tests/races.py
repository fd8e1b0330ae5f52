"""Racing real threads on PostgreSQL: each thread has its own connection (its own transactions)."""

import threading

from django.db import connection


class Racer(threading.Thread):
    """Run `work()` in a thread of its own; `.result` / `.error` once joined."""

    def __init__(self, name: str, work):
        super().__init__(name=name, daemon=True)
        self.work, self.result, self.error = work, None, None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as error:  # noqa: BLE001 - handed to the test that joins
            self.error = error
        finally:
            connection.close()
            self.done.set()

    def finish(self, timeout: float = 30):
        self.join(timeout)
        assert not self.is_alive(), f"{self.name} did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def race(*racers: Racer, timeout: float = 30) -> list:
    for racer in racers:
        racer.start()
    return [racer.finish(timeout) for racer in racers]


class Gate:
    """A pause hook: the thread named `who` stops at the point until the test opens the gate."""

    def __init__(self, who: str):
        self.who, self.reached, self.opened = who, threading.Event(), threading.Event()

    def __call__(self) -> None:
        if threading.current_thread().name == self.who:
            self.reached.set()
            assert self.opened.wait(20), "the gate was never opened"

    def wait_reached(self) -> None:
        assert self.reached.wait(20), f"{self.who} never reached the pause point"

    def open(self) -> None:
        self.opened.set()
