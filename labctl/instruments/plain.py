"""``PlainInstrument``: a pymeasure ``Instrument`` whose attribute reads are plain Python ones."""

from __future__ import annotations

from pymeasure.instruments import Instrument


class PlainInstrument(Instrument):
    """pymeasure's ``CommonBase.__getattribute__`` guards the names of dynamic properties on every attribute
    read (~2 us each, several per message: most of a driver's own time on simulated instruments). Our drivers
    declare no dynamic property, so the guard guards nothing; a subclass that declares one is refused."""

    __getattribute__ = object.__getattribute__

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self._special_names:
            raise TypeError(f"{type(self).__name__} declares dynamic properties {self._special_names}: "
                            "derive it from pymeasure's Instrument, whose attribute guard they need")
