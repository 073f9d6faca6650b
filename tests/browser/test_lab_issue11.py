"""End to end for issue 11 in real JupyterLab + kernel + Chromium against the emulator: the fit
cell and the fits chip, the budget bars, select + bulk Delete cache with its confirmation,
Free space..., the runtime badge and Install, and a change made by another client showing
within a second with polling off.
"""

from __future__ import annotations

import re
import time

from notebook_driver import shoot
from playwright.sync_api import Page, expect
from test_lab import ROW, VISIBLE, ids_by_name, python_says, row, start_widget, state_of

from pieces_widgets.client import PiecesClient


def fit_cell(page: Page, model_id: str):
    return row(page, model_id).locator('[data-slot="fit"]')


def test_fit_budget_bulk_delete_cache_and_free_space(lab, page, emulator_factory, artifacts):
    emu = emulator_factory(download_seconds=1.0, resume_downloads=False)
    ids = ids_by_name(emu)
    selection = "print('SEL', sorted(mm.selection))"
    start_widget(page, lab, emu, "issue11.ipynb", [selection])

    # Fit: a 16 GiB machine (the emulator's default) gives Mixtral's 34 GB "too large", small
    # models "fits"; cloud rows have no fit. The tooltip is the fit report.
    expect(fit_cell(page, ids["Mixtral 8 7B"])).to_have_text("too large")
    expect(fit_cell(page, ids["Llama 3.2 1B"])).to_have_text("fits")
    expect(fit_cell(page, ids["GPT-4o Chat Model"])).to_have_text("")
    row(page, ids["Mixtral 8 7B"]).locator(".pmm-name").hover()
    assert re.search(r"\d", fit_cell(page, ids["Mixtral 8 7B"]).get_attribute("title") or "")
    # The fits chip: its count is the number of rows it shows, all of them "fits".
    chip = page.locator('.pieces-mm button[data-filter="fits"]')
    count = int(chip.locator(".pmm-chip-count").inner_text())
    assert count > 0
    chip.click()
    expect(page.locator(VISIBLE)).to_have_count(count)
    texts = page.locator(VISIBLE + ' [data-slot="fit"]').all_inner_texts()
    assert texts and all(t == "fits" for t in texts), texts
    page.locator('.pieces-mm button[data-filter="all"]').click()

    # Too large: Download asks first, with the fit text; Cancel sends nothing.
    mixtral = row(page, ids["Mixtral 8 7B"])
    mixtral.locator('button[data-action="download"]').click()
    expect(mixtral.locator(".pmm-confirm")).to_contain_text("GB")
    mixtral.locator('[data-action="dismiss-confirm"]').click()
    expect(mixtral.locator(".pmm-confirm")).to_have_count(0)
    expect(state_of(page, ids["Mixtral 8 7B"])).to_have_text(re.compile("available"))

    # Budget bars: figures for screen readers; hovering a row adds its share.
    disk = page.locator('.pieces-mm [data-gauge="disk"]')
    ram = page.locator('.pieces-mm [data-gauge="ram"]')
    expect(disk).to_have_attribute("role", "img")
    expect(disk).to_have_attribute("aria-label", re.compile(r"^Disk: .* used by \d+ downloaded"))
    expect(ram).to_have_attribute("aria-label", re.compile(r"^RAM: .* used by 2 loaded models"))
    row(page, ids["Gemma 2 9B"]).locator(".pmm-name").hover()
    expect(ram).to_have_attribute("aria-label", re.compile(r"Gemma 2 9B: loading it would add"))
    shoot(page, artifacts, "lab-issue11-fit-budget", page.locator(".jp-Cell").first)

    # Select two downloaded models; bulk Delete cache confirms with the count and the bytes.
    picked = [ids["Mistral 7B"], ids["Qwen 2.5 Coder 7B"]]
    for model_id in picked:
        row(page, model_id).locator("input[data-select]").check()
    bar = page.locator(".pieces-mm .pmm-bulk")
    expect(bar).to_contain_text("2 selected")
    python_says(page, 1, "SEL " + re.escape(str(sorted(picked))))
    row(page, ids["Gemma 2 9B"]).locator(".pmm-name").hover()  # a row share on the RAM bar
    expect(ram.locator(".pmm-gauge-plus")).to_have_text(re.compile(r"^\+"))
    bar.locator('button[data-bulk="delete-cache"]').click()
    expect(bar.locator(".pmm-confirm-text")).to_have_text(
        re.compile(r"^Delete the files of 2 models, freeing \d+\.\d+ GB\?")
    )
    # While it is being confirmed the disk bar previews what it frees; the RAM bar shows no share.
    freed = re.search(r"freeing (\d+\.\d+ GB)", bar.locator(".pmm-confirm-text").inner_text())
    assert freed
    expect(disk).to_have_attribute("data-free", "true")
    expect(disk.locator(".pmm-gauge-hl")).to_be_visible()
    expect(disk.locator(".pmm-gauge-plus")).to_have_text("\u2212" + freed.group(1))
    expect(disk).to_have_attribute("aria-label", re.compile("will free " + freed.group(1)))
    expect(ram.locator(".pmm-gauge-hl")).to_be_hidden()
    expect(ram.locator(".pmm-gauge-plus")).to_have_text("")
    shoot(page, artifacts, "lab-issue11-bulk-preview", page.locator(".jp-Cell").first)
    for model_id in picked:
        expect(state_of(page, model_id)).to_have_text(re.compile("downloaded"))
    bar.locator('[data-action="bulk-confirm"]').click()
    for model_id in picked:
        expect(state_of(page, model_id)).to_have_text(re.compile("available"), timeout=15_000)
    # Select-all of the filtered rows (downloaded), then Clear.
    page.locator('.pieces-mm button[data-filter="downloaded"]').click()
    page.locator(".pieces-mm input[data-select-all]").check()
    shown = page.locator(VISIBLE).count()
    expect(bar).to_contain_text(re.compile(r"\d+ selected"))
    assert int(bar.locator(".pmm-bulk-count").inner_text().split()[0]) >= shown
    bar.locator('[data-action="bulk-clear"]').click()
    expect(bar).to_be_hidden()
    # Nothing selected, focus on Clear's successor, the pointer off the rows: no share left.
    page.locator(".pieces-mm .pmm-budget").hover()
    expect(ram.locator(".pmm-gauge-hl")).to_be_hidden()
    expect(ram.locator(".pmm-gauge-plus")).to_have_text("")
    expect(disk.locator(".pmm-gauge-hl")).to_be_hidden()
    page.locator('.pieces-mm button[data-filter="all"]').click()

    # Free space...: plan 5 GB, see the plan and its total, confirm, the caches go.
    page.locator('.pieces-mm button[data-action="free-space"]').click()
    panel = page.locator(".pieces-mm .pmm-cleanup")
    expect(panel).to_be_visible()
    panel.locator("input").fill("5 GB")
    panel.locator('button[data-action="cleanup-plan"]').click()
    plan_rows = panel.locator(".pmm-plan [data-plan-id]")
    expect(plan_rows.first).to_be_visible(timeout=15_000)
    expect(panel.locator(".pmm-plan-summary")).to_contain_text(re.compile(r"frees .* GB"))
    planned = plan_rows.evaluate_all("rows => rows.map(r => r.dataset.planId)")
    expect(disk).to_have_attribute("data-free", "true")  # the plan's total, previewed
    expect(disk).to_have_attribute("aria-label", re.compile("The Free space plan will free"))
    expect(ram.locator(".pmm-gauge-hl")).to_be_hidden()
    shoot(page, artifacts, "lab-issue11-free-space", page.locator(".jp-Cell").first)
    panel.locator('[data-action="cleanup-delete"]').click()
    panel.locator('[data-action="cleanup-confirm"]').click()
    expect(panel).to_be_hidden()
    for model_id in planned:
        expect(state_of(page, model_id)).to_have_text(re.compile("available"), timeout=15_000)
    assert len(page.locator(ROW).all()) == len(emu.models())


def test_runtime_badge_install_unblocks_download(lab, page, emulator_factory, artifacts):
    emu = emulator_factory(ollama="missing", runtime_seconds=2.0, resume_downloads=False)
    ids = ids_by_name(emu)
    start_widget(page, lab, emu, "runtime.ipynb", [])
    badge = page.locator(".pieces-mm .pmm-runtime")
    expect(badge).to_contain_text("Runtime missing", timeout=15_000)
    gemma = row(page, ids["Gemma 2 9B"])
    download = gemma.locator('button[data-action="download"]')
    expect(download).to_be_disabled()
    expect(gemma.locator(".pmm-blocked")).to_contain_text("runtime")
    note_id = gemma.locator(".pmm-blocked").get_attribute("id")
    expect(download).to_have_attribute("aria-describedby", note_id or "")
    # Load of a downloaded local model too: disabled, with the same whole reason, not clipped.
    llama = row(page, ids["Llama 3 8B"])
    load = llama.locator('button[data-action="load"]')
    expect(load).to_be_disabled()
    note = llama.locator(".pmm-blocked")
    expect(note).to_have_text(re.compile(r"download or load on-device models"))
    expect(load).to_have_attribute("aria-describedby", note.get_attribute("id") or "")
    clipped = note.evaluate("n => n.scrollHeight - n.clientHeight")
    assert clipped <= 0, f"the reason is cut by {clipped}px"
    shoot(page, artifacts, "lab-issue11-runtime-missing", page.locator(".jp-Cell").first)
    badge.locator('button[data-action="runtime"]').click()
    expect(badge).to_contain_text(re.compile(r"Installing"), timeout=10_000)
    expect(badge).to_contain_text(re.compile(r"^Runtime \d"), timeout=20_000)
    expect(download).to_be_enabled(timeout=10_000)
    expect(gemma.locator(".pmm-blocked")).to_have_count(0)
    expect(load).to_be_enabled()
    expect(llama.locator(".pmm-blocked")).to_have_count(0)


def test_change_by_another_client_shows_within_a_second_with_polling_off(
    lab, page, emulator_factory
):
    emu = emulator_factory(download_seconds=1.0, resume_downloads=False)
    ids = ids_by_name(emu)
    start_widget(page, lab, emu, "pushed.ipynb", [], poll=None)  # type: ignore[arg-type]
    conn = page.locator(".pieces-mm .pmm-conn")
    expect(conn).to_have_attribute("data-stream", "pushed", timeout=15_000)
    expect(conn).to_have_attribute("title", re.compile("pushed", re.I))
    target = ids["Llama 3 8B"]
    expect(state_of(page, target)).to_have_text(re.compile("downloaded"))
    with PiecesClient(emu.url) as other:
        started = time.monotonic()
        other.delete_model_cache(target)
        expect(state_of(page, target)).to_have_text(re.compile("available"), timeout=3_000)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"the change took {elapsed:.2f} s to show"
