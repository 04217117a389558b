"""Resolved experiments → a deduplicated graph of stage nodes.

Every stage kind wires its own nodes (``emdsl.kinds``), in order, for each variant; then the
kinds that read a whole sweep (the detector, the poison summary) gather theirs. Nodes with
equal keys are one node (``emdsl.graph``), so work two experiments share runs once.
"""

from __future__ import annotations

from emdsl.check import Program
from emdsl.graph import Built, CompileError, Graph, Node, name_nodes, node_key, rel
from emdsl.kinds import Builder, all_kinds, get_kind

__all__ = ["CompileError", "Graph", "Node", "compile_program", "node_key"]


def compile_program(program: Program, previous: dict[str, str] | None = None) -> Graph:
    """The graph of ``program``'s variants; ``previous`` (key -> stage name, see
    ``graph.previous_names``) keeps the names stages already have."""
    graph = Graph()
    kinds = all_kinds()
    for exp in program.experiments:
        built: Built = []
        for variant in exp.variants:
            builder = Builder(graph, variant, program.root)
            for kind in kinds:
                kind.wire(builder)
            graph.variants.append(variant)
            graph.index[(rel(variant.file, program.root), variant.experiment, variant.label)] = (
                variant, builder.roles)
            built.append((variant, builder.roles))
        for kind in kinds:
            kind.gather(graph, built)
    for node in graph.nodes.values():
        node.has_results = get_kind(node.kind).has_results
    name_nodes(graph, program.root, previous)
    return graph
