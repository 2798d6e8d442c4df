"""Group document vectors into stories: a nearest-neighbour graph, cut at a similarity, then clustered.

Neighbours come from faiss (exact inner product up to ``exact_below`` documents, HNSW above, so 100,000
documents need about ``n * neighbours`` similarities rather than ``n**2``). Two ways to turn the graph into
groups, both from maintained libraries and compared in ``bench/stories.py``:

- ``components``: connected components (scipy) of the edges at or above ``threshold``. Fast and transitive,
  which is what re-posts of re-posts need, but one bridge edge can chain two stories together.
- ``average``: average-linkage agglomerative clustering (scipy) within each connected component, cut at
  ``1 - threshold``: a document joins a group only if it is close to the group on average, which resists
  chaining at some cost in speed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

METHODS = ("components", "average")


# Link thresholds chosen by pairwise ARI on bench/story_set.py (bench/RESULTS.md), one per vector space: the
# language-centred vectors (report/centering.py, the default) and plain encoder vectors.
CENTERED_THRESHOLD = 0.5
PLAIN_THRESHOLD = 0.93


@dataclass(frozen=True)
class ClusterSettings:
    method: str = "average"
    # None: CENTERED_THRESHOLD or PLAIN_THRESHOLD, whichever space the vectors are in (link_threshold).
    threshold: float | None = None
    neighbours: int = 10
    exact_below: int = 20_000
    hnsw_m: int = 32
    hnsw_ef: int = 128
    full_linkage_below: int = 5_000

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"clustering method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.threshold is not None and not -1.0 <= self.threshold <= 1.0:
            raise ValueError(f"similarity threshold must be within [-1, 1], got {self.threshold}")
        if self.neighbours < 1 or self.exact_below < 0 or self.hnsw_m < 4 or self.hnsw_ef < 1:
            raise ValueError("neighbours, hnsw_m and hnsw_ef must be positive (hnsw_m >= 4)")

    def link_threshold(self, centered: bool) -> float:
        """The cosine similarity that links two documents: the given threshold, else the space's default."""
        if self.threshold is not None:
            return self.threshold
        return CENTERED_THRESHOLD if centered else PLAIN_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def knn(vectors: np.ndarray, settings: ClusterSettings) -> tuple[np.ndarray, np.ndarray]:
    """``(similarities, indices)`` of each vector's nearest neighbours (itself excluded; -1 pads)."""
    import faiss

    data = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = data.shape
    k = min(settings.neighbours + 1, n)
    index: Any
    if n <= settings.exact_below:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = max(settings.hnsw_ef, k)
    index.add(data)
    sims, ids = index.search(data, k)
    own = ids == np.arange(n)[:, None]
    sims, ids = np.where(own, -np.inf, sims), np.where(own, -1, ids)
    return sims, ids


def _graph(sims: np.ndarray, ids: np.ndarray, threshold: float, n: int) -> Any:
    from scipy.sparse import coo_matrix

    keep = (ids >= 0) & (sims >= threshold)
    rows = np.repeat(np.arange(n), ids.shape[1])[keep.ravel()]
    cols, values = ids[keep], sims[keep]
    graph = coo_matrix((values, (rows, cols)), shape=(n, n)).tocsr()
    return graph.maximum(graph.T)  # an edge either side found is an edge


def cluster(vectors: np.ndarray, settings: ClusterSettings, centered: bool = False) -> np.ndarray:
    """A group number per vector (0..groups-1, numbered by first member); a lone document is its own group.

    ``centered`` says the vectors are language-centred, which picks the default link threshold."""
    threshold = settings.link_threshold(centered)
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    sims, ids = knn(vectors, settings)
    graph = _graph(sims, ids, threshold, n)
    if settings.method == "components":
        from scipy.sparse.csgraph import connected_components

        _, labels = connected_components(graph, directed=False)
    else:
        labels = _average_linkage(vectors, graph, threshold, settings.full_linkage_below)
    return _renumber(labels)


def _average_linkage(vectors: np.ndarray, graph: Any, threshold: float, full_below: int) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.sparse.csgraph import connected_components

    # Each connected component of the graph is clustered on its own: a story cannot span two components, and
    # components of a news feed are small, so the full average linkage (every pair of members, scipy) is cheap.
    # A component larger than ``full_below`` falls back to linkage over the graph's edges only (scikit-learn),
    # whose averages ignore pairs that are not neighbours but whose memory stays linear.
    _, component = connected_components(graph, directed=False)
    labels = np.full(len(vectors), -1, dtype=np.int64)
    next_label = 0
    for part in np.unique(component):
        members = np.flatnonzero(component == part)
        if len(members) < 3:
            local = np.zeros(len(members), dtype=np.int64)
        elif len(members) <= full_below:
            tree = linkage(vectors[members].astype(np.float64), method="average", metric="cosine")
            local = fcluster(tree, t=1.0 - threshold, criterion="distance") - 1
        else:
            local = _sparse_average(vectors[members], graph[members][:, members], threshold)
        labels[members] = local + next_label
        next_label += int(local.max()) + 1
    return labels


def _sparse_average(vectors: np.ndarray, connectivity: Any, threshold: float) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=1.0 - threshold,
        connectivity=connectivity,
    )  # fmt: skip
    return np.asarray(model.fit_predict(vectors), dtype=np.int64)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Groups numbered in order of their first member, so the numbering is stable for the same input."""
    mapping: dict[int, int] = {}
    out = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels.tolist()):
        out[i] = mapping.setdefault(label, len(mapping))
    return out
