"""Chapter 9 runs unchanged on the CPU when CUDA is hidden, and then really runs on the CPU.

The chapter picks its device once, ``"cuda" if torch.cuda.is_available() else "cpu"``. With
``CUDA_VISIBLE_DEVICES`` set to the empty string PyTorch sees no GPU, so the same cells must
take the CPU path on any machine, GPU or not. The test executes the chapter in a fresh kernel
with that environment, then asks the kernel where the chapter's device, model and data ended up.
"""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "09_classifier.md"

PROBE = """\
import json, os
print("PROBE " + json.dumps({
    "env": os.environ.get("CUDA_VISIBLE_DEVICES"),
    "cuda_available": torch.cuda.is_available(),
    "device": str(device),
    "parameters": sorted({str(p.device) for p in best_model.parameters()}),
    "validation_data": str(x_val.device),
    "test_logits": str(test_logits.device),
}))
"""


def test_the_chapter_reads_the_device_from_cuda_availability():
    source = CHAPTER.read_text(encoding="utf-8")
    assert 'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")' in source


def test_chapter_runs_on_the_cpu_when_cuda_is_hidden(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # the kernel inherits this environment
    notebook = jupytext.read(CHAPTER)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(CHAPTER.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell, if any cell fails
    text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    report = json.loads(text.split("PROBE ", 1)[1])
    assert report["env"] == ""
    assert report["cuda_available"] is False
    assert report["device"] == "cpu"
    assert report["parameters"] == ["cpu"]
    assert report["validation_data"] == "cpu" and report["test_logits"] == "cpu"
