import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # pieces-widgets quickstart (marimo)

    `ModelManager` finds Pieces OS on this machine (`PIECES_OS_URL`, then ports 39300-39333,
    then the legacy 1000 and 5323) and shows every model it knows: sort, search, filter,
    download with live progress, load, unload, and more. When no Pieces OS runs, this notebook
    starts the bundled emulator in the kernel; the badge then says **emulated**.

    Run it with `marimo edit notebooks/quickstart_marimo.py` (or `marimo run` for an app).
    """)
    return


@app.cell
def _():
    import marimo as mo

    from pieces_widgets import ModelManager, PiecesUnavailable, discover

    try:
        url = discover()  # PIECES_OS_URL, then the usual ports
        emulator = None
    except PiecesUnavailable:
        from pieces_widgets.emulator import Emulator

        emulator = Emulator(download_seconds=6)  # every download takes 6 s: long enough to watch
        emulator.start()
        url = emulator.url
    return ModelManager, mo, url


@app.cell
def _(ModelManager, mo, url):
    mm = ModelManager(url)
    widget = mo.ui.anywidget(mm)  # sorting, searching and filtering in it re-run the cells below
    widget
    return mm, widget


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What Python sees

    The widget's sort, search and filter are traits: change them in the table and marimo
    re-runs this cell with `mm.to_dataframe()` under the same filter. Downloads and loads come
    from the server, not from the table's controls, so **Ask Python** re-reads the state.
    """)
    return


@app.cell
def _(mo):
    ask = mo.ui.button(label="Ask Python", value=0, on_click=lambda n: n + 1)
    ask
    return (ask,)


@app.cell
def _(ask, mm, mo, widget):
    view = widget.value  # the synced traits: re-runs on every sort, search or filter
    df = mm.to_dataframe(filter=view["filter"], search=view["search"])
    sort = view["sort"]
    summary = mo.md(
        f"Python sees **{len(df)}** models for filter {view['filter']!r}, "
        f"search {view['search']!r}, sorted by {sort.get('column')!r} "
        f"({'descending' if sort.get('descending') else 'ascending'}); asked {ask.value} times."
    )
    on_disk = df[df["state"].isin(["downloaded", "loaded", "downloading"])]
    mo.vstack([summary, mo.plain_text(on_disk[["name", "state"]].to_string(index=False))])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The catalogue as a DataFrame

    One row per model, indexed by id, with real dtypes: booleans, nullable integer byte
    counts, float parameters (billions) and a timezone-aware `created`.
    """)
    return


@app.cell
def _(mm):
    catalogue = mm.to_dataframe()
    catalogue[["name", "provider", "state", "bytes", "parameters", "quantization", "max_tokens"]]
    return


@app.cell
def _(mm):
    # the same filters as the widget's chips and search box
    mm.to_dataframe(filter="local", search="llama")[["name", "state", "bytes"]]
    return


@app.cell
def _(mm):
    # Before the click: will the largest local model fit, and what would free 10 GB?
    # Both only read: nothing is deleted (mm.delete_cache(list(plan.index)) would act on it).
    _local = mm.to_dataframe(filter="local").sort_values("ram", ascending=False)
    _fit = [str(mm.fit(_id)) for _id in _local.index[:1]]
    _plan = mm.cleanup_plan("10 GB")
    print(*_fit)
    _plan
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Every button has a Python twin

    Each call returns a handle at once: `await` it, `.wait()` it in a script, `.cancel()` it,
    or attach a progress callback. The widget above updates live while it runs. On a real
    Pieces OS a download uses real disk space, so the button below only acts on the emulator.
    """)
    return


@app.cell
def _(mo):
    run_twins = mo.ui.run_button(label="Download, load and unload the smallest model")
    run_twins
    return (run_twins,)


@app.cell
async def _(mm, mo, run_twins):
    mo.stop(not run_twins.value)
    mo.stop(not mm.server.get("emulated", False), mo.md("Not on a real Pieces OS."))
    local = mm.to_dataframe(filter="local")
    candidates = local[~local["downloaded"] & ~local["downloading"]].sort_values("bytes")
    mo.stop(candidates.empty, mo.md("Every local model is on disk already."))
    target = candidates.index[0]
    milestones = []
    final = await mm.download(target).on_progress(milestones.append)
    await mm.load(target)
    loaded = mm.to_dataframe().loc[target, ["name", "state", "loaded"]].to_dict()
    await mm.unload_all()
    mo.md(
        f"{final.status} after {len(milestones)} progress updates; then {loaded}; "
        f"loaded now: {int(mm.to_dataframe()['loaded'].sum())}"
    )
    return


@app.cell
def _(mm):
    mm.history  # every action: time, model, duration, outcome
    return


if __name__ == "__main__":
    app.run()
