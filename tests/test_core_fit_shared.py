"""Models that need the same loaded models unloaded share one tuple (memory on big catalogues)."""

from __future__ import annotations

from pieces_widgets.fit import fit_all
from pieces_widgets.models import Model

GIB = 2**30


def test_the_same_unload_prefix_is_one_tuple():
    loaded = [Model(f"l{i}", name=f"L{i}", ram=GIB, loaded=True) for i in range(3)]
    big = [Model(f"b{i}", name=f"B{i}", ram=int(1.5 * GIB)) for i in range(2)]
    reports = fit_all([*loaded, *big], 4 * GIB)  # 1 GiB free: each big one unloads one
    a, b = reports[3], reports[4]
    assert a is not None and b is not None
    assert [u.id for u in a.unload] == ["l0"] and a.unload is b.unload
