"""How many CSV exports may run at once in this process."""

from __future__ import annotations

from litestar.exceptions import TooManyRequestsException

RETRY_AFTER_SECONDS = 10


class ExportSlots:
    """Each export holds a pooled connection for as long as the download lasts;
    without a cap, a few slow downloads could take every connection and turn
    the list, the summary and sign-in into 503s. Handlers run on one event
    loop, so a plain counter is enough.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0

    @classmethod
    def for_pool(cls, pool_max_size: int) -> ExportSlots:
        return cls(max(1, pool_max_size // 2))

    def take(self) -> None:
        if self.in_use >= self.limit:
            raise TooManyRequestsException(
                detail="Too many exports are running; try again in a few seconds.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.in_use += 1

    def release(self) -> None:
        self.in_use -= 1
