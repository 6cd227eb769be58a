"""Named extension points: how a lower layer lets a higher one take part without importing it.

Domain apps depend on each other in one direction (``tests/architecture`` checks it). When a
lower layer needs something only a higher one knows (core asks accounts who the caller of a
request is; volunteers tells whoever listens that hours were credited), it declares a ``Hook``
and the higher layer registers an implementation from its ``AppConfig.ready()``:

    # lower layer (declares and calls)
    request_owner = Hook[Callable[[HttpRequest], str | None]]("core.request_owner", single=True)
    owner = request_owner.call_first(request)

    # higher layer (implements)
    @request_owner.register
    def _owner(request): ...

``single=True`` hooks have at most one implementation (registering a second one is a bug);
others call every implementation in registration order. A hook with no implementation does
nothing (``call_all`` returns ``[]``, ``call_first`` returns ``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Hook(Generic[F]):
    registry: dict[str, Hook[Any]] = {}

    def __init__(self, name: str, *, single: bool = False) -> None:
        if name in Hook.registry:
            raise RuntimeError(f"Hook {name!r} is declared twice.")
        self.name = name
        self.single = single
        self._impls: list[F] = []
        Hook.registry[name] = self

    def register(self, func: F) -> F:
        if func in self._impls:
            return func
        if self.single and self._impls:
            raise RuntimeError(f"Hook {self.name!r} takes one implementation; {func!r} would be the second.")
        self._impls.append(func)
        return func

    def unregister(self, func: F) -> None:
        if func in self._impls:
            self._impls.remove(func)

    def __iter__(self) -> Iterator[F]:
        return iter(list(self._impls))

    def __bool__(self) -> bool:
        return bool(self._impls)

    def call_all(self, *args: Any, **kwargs: Any) -> list[Any]:
        return [impl(*args, **kwargs) for impl in list(self._impls)]

    def call_first(self, *args: Any, **kwargs: Any) -> Any:
        for impl in list(self._impls):
            return impl(*args, **kwargs)
        return None

    def __repr__(self) -> str:
        return f"<Hook {self.name} ({len(self._impls)} implementation(s))>"
