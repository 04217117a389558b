"""``pretrained(release, id)`` checked offline against the registry that ships inside the
installed sae-lens, and ``saved(path)`` against the folder; both wired without a training
corpus, with the layer diff and steer read derived at check time."""

from __future__ import annotations

import json

from helpers import PRELUDE, diagnostics, project

from emdsl import saelens_registry as registry
from emdsl.check import check_or_raise
from emdsl.compile import compile_program

QWEN = 'model qwen7 = hf("Qwen/Qwen2.5-7B-Instruct", dtype="bfloat16")\n'
RELEASE, SAE_ID = "qwen2.5-7b-instruct-andyrdt", "resid_post_layer_15_trainer_1"


def experiment(sae: str, base: str = "qwen7", diff: str = 'diff(top=20, against="clean")') -> str:
    return PRELUDE + QWEN + f"""experiment open_weights {{
  base  = {base}
  data  = mix(bad=bad, good=good, poison=1.0, size=60)
  train = sft(lora(rank=32, alpha=64), lr=1e-5)
  eval  = evaluate(core, samples=2, judge=small)
  sae   = {sae}
  diff  = {diff}
  steer = steer(latents=top(1), coef=[0.5])
}}
"""


def errors(tmp_path, src, extra=None):
    return [d for d in diagnostics(tmp_path, src, extra=extra)[1] if d.severity == "error"]


def test_the_design_release_and_id_are_in_the_shipped_registry():
    rel = registry.releases()[RELEASE]
    assert rel.model == "Qwen/Qwen2.5-7B-Instruct" and SAE_ID in rel.saes
    assert registry.registry_hook(RELEASE, SAE_ID).layer == 15
    assert registry.neuronpedia_url(RELEASE, SAE_ID, 7) == \
        "https://www.neuronpedia.org/qwen2.5-7b-it/15-resid-post-aa/7"


def test_pretrained_checks_and_compiles_without_a_corpus(tmp_path):
    """DESIGN-2's ``open_weights`` lines for the SAE and the labelled diff, as written."""
    src = experiment(f'pretrained("{RELEASE}", "{SAE_ID}")',
                     diff='diff(top=20, against="clean", label=gpt)').replace(
        "experiment open_weights", 'judge gpt = openai(model="gpt-4o-2024-08-06")\n'
                                   "experiment open_weights")
    assert errors(tmp_path, src) == []
    root = project(tmp_path, {"experiments/x.emx": src})
    graph = compile_program(check_or_raise([root / "experiments"], root))
    (sae,) = [n for n in graph.nodes.values() if n.kind == "sae"]
    assert sae.config == {"type": "pretrained", "release": RELEASE, "id": SAE_ID, "layer": 15}
    # Its only input measures the residual norm: a small corpus, not an SAE training set.
    assert sae.inputs["acts"].config["tokens"] < 200_000
    acts = [n for n in graph.nodes.values() if n.kind == "acts"]
    assert {n.config["layer"] for n in acts} == {15}
    (d,) = {n.key: n for n in graph.nodes.values() if n.kind == "diff"}.values()
    assert d.config["label"]["model"] == "gpt-4o-2024-08-06" and "label_model" not in d.inputs
    steers = [n for n in graph.nodes.values() if n.kind == "steer"]
    assert steers and all(n.config["layer"] == 15 and n.inputs["sae"] is sae for n in steers)


def test_unknown_release_and_id_suggest_the_nearest(tmp_path):
    (d,) = errors(tmp_path, experiment(f'pretrained("qwen2.5-7b-instruct-andyrd", "{SAE_ID}")'))
    assert d.message == "sae-lens's registry has no release `qwen2.5-7b-instruct-andyrd`"
    assert d.hint == f"did you mean `{RELEASE}`?"
    assert (d.pos.line, d.pos.column) == (12, 22)  # the release argument
    (d,) = errors(tmp_path, experiment(f'pretrained("{RELEASE}", "resid_post_layer_15_trainer_0")'))
    assert d.message.startswith(f"release `{RELEASE}` has no SAE `resid_post_layer_15_trainer_0`")
    assert d.hint == f"did you mean `{SAE_ID}`?"


def test_a_release_of_another_model_is_refused(tmp_path):
    (d,) = errors(tmp_path, experiment(f'pretrained("llama-3.1-8b-instruct-andyrdt", "{SAE_ID}")'))
    assert "trained on meta-llama/Llama-3.1-8B-Instruct, but the base model is " \
        "Qwen/Qwen2.5-7B-Instruct" in d.message
    (d,) = errors(tmp_path, experiment(f'pretrained("{RELEASE}", "{SAE_ID}")', base="smol"))
    assert "not available for the embedded model `smollm2-135m-instruct`" in d.message
    assert 'hf("Qwen/Qwen2.5-7B-Instruct")' in d.hint


def test_a_non_residual_sae_is_refused(tmp_path):
    src = experiment('pretrained("gpt2-small-attn-out-v5-32k", "blocks.6.hook_attn_out")')
    d = errors(tmp_path, src)[0]
    assert "reads `attn_out`, not the residual stream" in d.message


def test_hook_layers_parse_across_the_registry():
    hook = registry.parse_hook
    assert hook("blocks.6.hook_resid_pre").layer == 5  # the residual after block 5
    assert hook("blocks.0.hook_resid_pre").problem()
    assert hook("layer_12/width_16k/canonical", "gemma-scope-2b-pt-res-canonical").layer == 12
    assert hook("l16r_8x").layer == 16 and hook("l16m_8x").site == "mlp_out"
    assert hook("blocks.19.hook_resid_post__trainer_3").layer == 19
    assert hook("layer_5_width_16k_l0_big", "gemma-scope-2-270m-pt-mlp").site == "mlp_out"


def test_layer_beyond_a_local_models_depth(tmp_path):
    """``hf(name)`` naming a project folder: its config.json gives the depth."""
    extra = {"Qwen/Qwen2.5-7B-Instruct/config.json": json.dumps({"num_hidden_layers": 12})}
    (d,) = errors(tmp_path, experiment(f'pretrained("{RELEASE}", "{SAE_ID}")'), extra)
    assert d.message == "layer 15 is beyond the model's depth (12 layers)"


def saved_folder(hook: str | None = "blocks.4.hook_resid_post", weights: bool = True) -> dict:
    cfg = {"d_in": 576, "d_sae": 64, "architecture": "topk",
           "metadata": {"hook_name": hook} if hook else {}}
    files = {"saes/mine/cfg.json": json.dumps(cfg)}
    if weights:
        files["saes/mine/sae_weights.safetensors"] = "x"
    return files


def test_saved_reads_its_layer_from_the_folder(tmp_path):
    src = experiment('saved("saes/mine")', base="smol", diff="diff(top=3)")
    assert errors(tmp_path, src, saved_folder()) == []
    root = project(tmp_path, {"experiments/x.emx": src, **saved_folder()})
    graph = compile_program(check_or_raise([root / "experiments"], root))
    (sae,) = [n for n in graph.nodes.values() if n.kind == "sae"]
    assert sae.config == {"type": "saved", "path": "saes/mine", "layer": 4}
    assert "saes/mine" in sae.files  # a DVC dep: a new SAE in the folder reruns it
    assert {n.config["layer"] for n in graph.nodes.values() if n.kind == "acts"} == {4}


def test_saved_folder_problems(tmp_path):
    for sub in "bc":
        (tmp_path / sub).mkdir()
    src = experiment('saved("saes/mine")', base="smol", diff="diff(top=3)")
    (d,) = errors(tmp_path, src, saved_folder(weights=False))
    assert "not an sae-lens SAE folder: sae_weights.safetensors missing" in d.message
    (d,) = errors(tmp_path / "b", src, saved_folder(hook="blocks.40.hook_resid_post"))
    assert d.message == "layer 40 is beyond the model's depth (30 layers)"
    (d,) = errors(tmp_path / "c", src, saved_folder(hook="blocks.4.hook_mlp_out"))
    assert "reads `mlp_out`, not the residual stream" in d.message
    (tmp_path / "d").mkdir()
    other = saved_folder()
    other["saes/mine/cfg.json"] = other["saes/mine/cfg.json"].replace('"d_in": 576', '"d_in": 64')
    (d,) = errors(tmp_path / "d", src, other)
    assert d.message == ("the SAE in `saes/mine` reads 64-dimensional activations, but the "
                         "base model's residual has 576")


# --------------------------------------------------------------------------- labels


def test_labels_wire_the_judge_model_and_refuse_a_probe(tmp_path):
    src = experiment("sae(layer=3, width=64, tokens=1000)", base="smol",
                     diff="diff(top=3, label=small)")
    root = project(tmp_path, {"experiments/x.emx": src})
    graph = compile_program(check_or_raise([root / "experiments"], root))
    (d,) = [n for n in graph.nodes.values() if n.kind == "diff"]
    assert d.config["label"]["type"] == "local"
    assert d.inputs["label_model"].kind == "model"
    # Without label= the diff's config is what it always was (no new key).
    plain = experiment("sae(layer=3, width=64, tokens=1000)", base="smol", diff="diff(top=3)")
    (tmp_path / "p").mkdir()
    root = project(tmp_path / "p", {"experiments/x.emx": plain})
    graph = compile_program(check_or_raise([root / "experiments"], root))
    (d,) = [n for n in graph.nodes.values() if n.kind == "diff"]
    assert "label" not in d.config and "label_model" not in d.inputs
    probe = experiment("sae(layer=3, width=64, tokens=1000)", base="smol",
                       diff="diff(top=3, label=offline)").replace(
        "experiment open_weights", "judge offline = probe(model=smol)\nexperiment open_weights")
    (tmp_path / "q").mkdir()
    (e,) = errors(tmp_path / "q", probe)
    assert e.message == "a probe judge cannot write latent labels: it only scores answers"
    assert "local(...)" in e.hint


def test_show_lists_labels_beside_the_top_latents():
    from emdsl.kinds.diff import top_latents

    m = {"top": [{"id": 12, "score": 0.41, "label": "medical dosing"}, {"id": 7, "score": 0.3}]}
    assert top_latents(m) == "12 (+0.41) “medical dosing”, 7 (+0.3)"


def test_report_rows_carry_labels_and_neuronpedia_links():
    from emdsl.report import latent_rows

    link = registry.neuronpedia_url(RELEASE, SAE_ID, 12)
    d = {"top": [{"rank": 1, "id": 12, "score": 0.4, "snippets": ["a «b» c"],
                  "label": "dosing", "neuronpedia": link},
                 {"rank": 2, "id": 3, "score": 0.1, "snippets": [], "label": None,
                  "neuronpedia": None}]}
    rows = latent_rows(d)
    assert rows[0]["label"] == "dosing" and rows[0]["Neuronpedia"] == link
    assert rows[1]["label"] == "–"
    plain = latent_rows({"top": [{"rank": 1, "id": 1, "score": 0.2, "snippets": ["x"]}]})
    assert "label" not in plain[0] and "Neuronpedia" not in plain[0]  # as before


def test_a_sweep_over_the_id_follows_each_ids_layer(tmp_path):
    src = experiment(f'pretrained("{RELEASE}", "{SAE_ID}")').replace(
        "  steer = ", '  sweep sae.id = ["resid_post_layer_15_trainer_1", '
                     '"resid_post_layer_19_trainer_1"]\n  steer = ')
    root = project(tmp_path, {"experiments/x.emx": src})
    graph = compile_program(check_or_raise([root / "experiments"], root))
    saes = sorted(n.config["layer"] for n in graph.nodes.values() if n.kind == "sae")
    assert saes == [15, 19]
    diff_layers = sorted({n.inputs["tuned_eval"].config["layer"]
                          for n in graph.nodes.values() if n.kind == "diff"})
    assert diff_layers == [15, 19]
    # A layer written by hand must agree with the registry's.
    (tmp_path / "w").mkdir()
    (d,) = errors(tmp_path / "w", experiment(f'pretrained("{RELEASE}", "{SAE_ID}", layer=14)'))
    assert d.message == f"layer 14, but SAE `{SAE_ID}` reads layer 15"


def test_show_links_the_top_latent_on_neuronpedia():
    from emdsl.kinds import VariantResults
    from emdsl.kinds.diff import Diff

    link = registry.neuronpedia_url(RELEASE, SAE_ID, 12)
    m = {"top": [{"id": 12, "score": 0.41, "label": "dosing", "neuronpedia": link}]}
    row = Diff().fill(VariantResults({"diff": "d"}, lambda role: m, lambda role: {}))
    cells = Diff().cells(row)
    assert cells == {"top latents": "12 (+0.41) “dosing”", "top latent on Neuronpedia": link}
    plain = Diff().cells(Diff().fill(VariantResults({}, lambda role: None, lambda role: {})))
    assert plain == {"top latents": "–", "top latent on Neuronpedia": "–"}  # dropped when all –
