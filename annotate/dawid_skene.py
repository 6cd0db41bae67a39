"""Dawid-Skene: each item's posterior over the classes and each annotator's confusion matrix.

Dawid and Skene (1979), "Maximum likelihood estimation of observer error-rates using the
EM algorithm". Every annotator w has a confusion matrix pi[w, k, l], the chance of giving
label l to an item whose true class is k; the classes have a prior p[k]. EM alternates:

- E step: an item's posterior T[i, k] is proportional to p[k] times the product, over its
  labels, of pi[w, k, l];
- M step: p is the mean posterior; pi[w, k, :] is the posterior-weighted count of w's labels
  on items of class k, plus `smoothing` in every cell, normalised. One pseudo-label a cell
  (a Dirichlet prior, the estimate its maximum a posteriori) makes a label an annotator
  never gave on a class unlikely, not impossible, and curves the nearly flat valleys of
  the likelihood that two labels a sentence leave: with a hundredth of one, EM crawled
  along them for thousands of steps to posteriors the labels do not tell apart.

It starts from majority vote (each item's posterior is its share of votes, whose argmax is
the majority label), is sped up by SQUAREM and stops at a fixed point (see fit). Clamped
items (adjudicated sentences, evaluation items) keep a posterior of 1 on their known class
at every step, so they teach the confusion matrices and are never overruled.

Pure numpy and no Django, vectorised over one array a label: the M step is one bincount over
(annotator, true class, label) indexes weighted by the posteriors, the E step one gather of
log pi and one bincount over (item, class); items with the same labels from the same
annotators are fitted once. No Python loop runs over the labels or the classes, so a
million labels take seconds (benchmarks/dawid_skene.py). numpy is imported at the top:
web processes reach this module only through annotate.aggregation, which imports it inside
the functions that fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Two classes whose posteriors are this close are a tie: the item is left unresolved, as a
#: tie of votes is under majority vote.
TIE = 1e-9
NO_CLASS = -1
#: A SQUAREM cycle that raises the objective (the log posterior of the parameters) by less
#: than this part of it ends the fit.
OBJECTIVE_TOL = 1e-12


class DawidSkeneError(ValueError):
    """Input the model cannot be fitted on, with what is wrong with it."""


@dataclass(frozen=True)
class Fit:
    """A fitted model. Rows follow `item_ids` and `annotator_ids` (both sorted)."""

    item_ids: NDArray[np.int64]  # (items,): every labelled or clamped item
    annotator_ids: NDArray[np.int64]  # (annotators,)
    posterior: NDArray[np.float64]  # (items, classes), each row sums to 1
    confusion: NDArray[np.float64]  # (annotators, true class, label), each row sums to 1
    prior: NDArray[np.float64]  # (classes,)
    counts: NDArray[np.int64]  # (items, classes): each item's votes per label
    clamped: NDArray[np.bool_]  # (items,): held at a known class
    iterations: int  # EM steps taken (SQUAREM's extrapolations not counted)
    identifiable: bool  # some item has two annotators' labels, or a clamped one a label
    converged: bool
    log_likelihood: float  # of the labels (and clamped classes) under the fitted model
    patterns: int  # distinct sets of (annotator, label) pairs and clamp: what EM ran on

    @property
    def classes(self) -> NDArray[np.int64]:
        """Each item's most probable class, NO_CLASS where the top two tie (within TIE)."""
        if not len(self.item_ids):
            return np.zeros(0, dtype=np.int64)
        best = np.argmax(self.posterior, axis=1)
        top2 = np.sort(self.posterior, axis=1)[:, -2:] if self.posterior.shape[1] > 1 else None
        if top2 is None:
            return best.astype(np.int64)
        return np.where(top2[:, 1] - top2[:, 0] <= TIE, NO_CLASS, best).astype(np.int64)

    @property
    def accuracy(self) -> NDArray[np.float64]:
        """Each annotator's estimated accuracy: the diagonal of their matrix weighted by the prior."""
        diagonal = np.diagonal(self.confusion, axis1=1, axis2=2)
        return np.asarray((diagonal * self.prior).sum(axis=1), dtype=np.float64)


def _codes(values: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    ids, codes = np.unique(values, return_inverse=True)
    return ids.astype(np.int64), codes.reshape(-1).astype(np.int64)


def _checked(
    items: ArrayLike, annotators: ArrayLike, labels: ArrayLike, n_classes: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    if n_classes < 1:
        raise DawidSkeneError(f"n_classes must be at least 1, not {n_classes}.")
    arrays = [np.asarray(a) for a in (items, annotators, labels)]
    for name, array in zip(("items", "annotators", "labels"), arrays, strict=True):
        if array.ndim != 1:
            raise DawidSkeneError(f"{name} must be one-dimensional, not of shape {array.shape}.")
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise DawidSkeneError(f"{name} must be integers, not {array.dtype}.")
    if not len({a.size for a in arrays}) == 1:
        raise DawidSkeneError(
            "items, annotators and labels must be of one length (one entry a label), not "
            + ", ".join(str(a.size) for a in arrays)
            + "."
        )
    labels_ = arrays[2].astype(np.int64)
    if labels_.size and (labels_.min() < 0 or labels_.max() >= n_classes):
        raise DawidSkeneError(f"labels must be class numbers from 0 to {n_classes - 1}.")
    return arrays[0].astype(np.int64), arrays[1].astype(np.int64), labels_


@dataclass(frozen=True)
class _Patterns:
    """The labels EM runs on: one entry a label of one item of each pattern (items with the
    same labels from the same annotators, and the same clamp, have the same posterior at
    every step), each pattern weighted by its number of items.

    Flat index arrays, built once, one entry a (class, label) pair: the cell of the label's
    pattern in the posterior and of pi[w, class, label] in the matrices, which both steps
    gather from and bincount into (numpy's fastest paths; fancy indexing of 2-D rows is
    several times slower). The posterior is held class-major, (classes, patterns): numpy
    reduces across a few long rows far faster than along many rows of three."""

    n_items: int
    n_workers: int
    k: int
    weight: NDArray[np.float64]  # (patterns,): items of each
    cells: NDArray[np.int64]
    matrix_cells: NDArray[np.int64]
    clamp_codes: NDArray[np.int64]  # clamped patterns
    clamp_classes: NDArray[np.int64]
    smoothing: float

    @property
    def known(self) -> NDArray[np.float64]:
        """(classes, clamped patterns): 1 on each one's known class."""
        known = np.zeros((self.k, self.clamp_codes.size))
        known[self.clamp_classes, np.arange(self.clamp_codes.size)] = 1.0
        return known

    def m_step(self, posterior: NDArray[np.float64]) -> NDArray[np.float64]:
        """The parameters the posterior makes likeliest, as one flat vector: the prior, then
        every annotator's labels counted by the posterior of each class."""
        k, weighted = self.k, posterior * self.weight
        prior = (weighted.sum(axis=1) + self.smoothing) / (self.n_items + k * self.smoothing)
        counted = np.bincount(
            self.matrix_cells, weights=np.take(weighted.ravel(), self.cells), minlength=self.n_workers * k * k
        )
        confusion = counted.reshape(self.n_workers, k, k) + self.smoothing
        return np.concatenate([prior, (confusion / confusion.sum(axis=2, keepdims=True)).ravel()])

    def split(self, theta: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return theta[: self.k], theta[self.k :].reshape(self.n_workers, self.k, self.k)

    def log_prior(self, theta: NDArray[np.float64]) -> float:
        """The smoothing's Dirichlet prior on the parameters, in logs, up to a constant."""
        return self.smoothing * float(np.log(theta).sum())

    def e_step(self, theta: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
        """Every pattern's posterior under the parameters, and what EM raises at every step:
        the log-likelihood of the labels (an item's marginal over the classes, or for a
        clamped item the joint with its class) plus the log prior of the parameters."""
        prior, confusion = self.split(theta)
        by_label = np.take(np.log(confusion).ravel(), self.matrix_cells)
        scores = np.bincount(self.cells, weights=by_label, minlength=self.weight.size * self.k)
        scores = scores.reshape(self.k, self.weight.size) + np.log(prior)[:, None]
        top = scores.max(axis=0)
        posterior = np.exp(scores - top)
        totals = posterior.sum(axis=0)
        posterior /= totals
        marginal = top + np.log(totals)
        marginal[self.clamp_codes] = scores[self.clamp_classes, self.clamp_codes]
        posterior[:, self.clamp_codes] = self.known
        # Sums, not `@`: a BLAS dot product spins its threads, slow on a busy machine.
        return posterior, float((marginal * self.weight).sum()) + self.log_prior(theta)

    def valid(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """An extrapolated vector made parameters again: no cell below a trace, rows summing to 1."""
        prior, confusion = self.split(np.maximum(theta, 1e-12))
        return np.concatenate(
            [prior / prior.sum(), (confusion / confusion.sum(axis=2, keepdims=True)).ravel()]
        )


def _patterns(
    items: NDArray[np.int64],
    workers: NDArray[np.int64],
    labels: NDArray[np.int64],
    clamps: NDArray[np.int64],
    classes: NDArray[np.int64],
    *,
    n_items: int,
    n_workers: int,
    k: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Each item's pattern, the pattern's items' count, and which labels are of one item a
    pattern. An item's signature is the sum (modulo 2**64) of a random 64-bit token for each
    of its (annotator, label) pairs and for its clamp: two different label sets share one
    with odds of about items**2 / 2**65 (3e-8 at a million sentences)."""
    tokens = np.random.default_rng(20260).integers(0, 2**64 - 1, size=n_workers * k + k, dtype=np.uint64)
    signature = np.zeros(n_items, dtype=np.uint64)
    np.add.at(signature, items, tokens[workers * k + labels])
    np.add.at(signature, clamps, tokens[n_workers * k + classes])
    _, first, pattern, size = np.unique(signature, return_index=True, return_inverse=True, return_counts=True)
    chosen = np.zeros(n_items, dtype=bool)
    chosen[first] = True
    return pattern.reshape(-1).astype(np.int64), size.astype(np.int64), chosen[items]


def fit(
    *,
    items: ArrayLike,
    annotators: ArrayLike,
    labels: ArrayLike,
    n_classes: int,
    clamped: Mapping[int, int] | None = None,
    max_iter: int = 2000,
    tol: float = 1e-7,
    smoothing: float = 1.0,
) -> Fit:
    """Fit Dawid-Skene by EM on one entry a label: `items[j]` (any integer id) got label
    `labels[j]` (0 to n_classes - 1) from `annotators[j]` (any integer id). An annotator may
    label an item more than once (Dawid and Skene's clinicians did): each label counts.

    `clamped` maps item ids to their known class: their posterior stays 1 on it. An item
    there with no label is still an item of the fit. With no label and nothing clamped the
    fit is empty (no item, no annotator, zero iterations). With nothing to learn error rates
    from (no item labelled by two annotators, no clamped item labelled) it is not
    `identifiable` and takes no step: each posterior is the item's share of votes.

    EM runs once a pattern of labels (a few annotators giving two or three labels a
    sentence make a few thousand patterns however many sentences there are). It is slow
    where the labels leave the truth uncertain (two noisy labels a sentence: thousands of
    steps), so its steps are extrapolated with SQUAREM (Varadhan and Roland 2008, scheme
    S3): two EM steps give a direction, a step along it is taken if it lands at least as
    high in the objective as the first EM step, and one EM step settles it. It stops when an EM
    step moves the parameters by at most `tol` (Euclidean norm, as SQUAREM's reference code
    measures it) or a cycle raises the objective by less than OBJECTIVE_TOL of it, or
    after `max_iter` EM steps."""
    item_values, annotator_values, label_codes = _checked(items, annotators, labels, n_classes)
    clamped = dict(clamped or {})
    clamp_ids = np.fromiter(clamped.keys(), dtype=np.int64, count=len(clamped))
    clamp_classes = np.fromiter(clamped.values(), dtype=np.int64, count=len(clamped))
    if clamp_classes.size and (clamp_classes.min() < 0 or clamp_classes.max() >= n_classes):
        raise DawidSkeneError(f"clamped classes must be from 0 to {n_classes - 1}.")
    k = n_classes
    item_ids, item_codes = _codes(np.concatenate([item_values, clamp_ids]))
    item_codes, clamp_codes = item_codes[: item_values.size], item_codes[item_values.size :]
    annotator_ids, worker_codes = _codes(annotator_values)
    n_items, n_workers = item_ids.size, annotator_ids.size
    counts = np.bincount(item_codes * k + label_codes, minlength=n_items * k).reshape(n_items, k)
    is_clamped = np.zeros(n_items, dtype=bool)
    is_clamped[clamp_codes] = True

    pattern, size, chosen = _patterns(
        item_codes,
        worker_codes,
        label_codes,
        clamp_codes,
        clamp_classes,
        n_items=n_items,
        n_workers=n_workers,
        k=k,
    )
    clamp_patterns, first_clamp = np.unique(pattern[clamp_codes], return_index=True)
    on_pattern, on_worker, on_label = pattern[item_codes[chosen]], worker_codes[chosen], label_codes[chosen]
    rows = np.arange(k, dtype=np.int64)[:, None]
    problem = _Patterns(
        n_items=n_items,
        n_workers=n_workers,
        k=k,
        weight=size.astype(np.float64),
        cells=(rows * size.size + on_pattern[None, :]).ravel(),
        matrix_cells=((on_worker[None, :] * k + rows) * k + on_label[None, :]).ravel(),
        clamp_codes=clamp_patterns.astype(np.int64),
        clamp_classes=clamp_classes[first_clamp],
        smoothing=smoothing,
    )
    # Error rates can be learnt only from an item labelled by two annotators or a clamped
    # item with a label. Without one (a single annotator, or no overlap at all) every
    # parameter with the same label shares is as likely, and EM would drift along them:
    # the majority-vote start is kept, so every label stands.
    some_annotator = np.zeros(n_items, dtype=np.int64)
    some_annotator[item_codes] = worker_codes
    identifiable = bool(np.any(worker_codes != some_annotator[item_codes]) or np.any(is_clamped[item_codes]))

    pattern_counts = np.bincount(on_label * size.size + on_pattern, minlength=k * size.size).reshape(k, -1)
    votes = pattern_counts.sum(axis=0)
    start = np.divide(pattern_counts, votes, out=np.full((k, size.size), 1.0 / k), where=votes > 0)
    start[:, problem.clamp_codes] = problem.known
    theta = problem.m_step(start)
    posterior, objective = problem.e_step(theta)
    steps, converged, longest = 0, n_items == 0 or not identifiable, 1.0
    while not converged and steps < max_iter:
        first = problem.m_step(posterior)
        steps += 1
        r = first - theta
        rr = float(np.square(r).sum())
        # The residual of one EM step: small at a fixed point, and along a ridge of equal
        # likelihood (parameters the labels do not tell apart), where SQUAREM's jumps would
        # otherwise wander without end.
        if rr <= tol * tol:
            theta, converged = first, True
            break
        posterior_1, objective_1 = problem.e_step(first)
        second = problem.m_step(posterior_1)
        v = second - 2 * first + theta
        # The step length, at least one (two plain EM steps) and at most `longest`, which
        # grows fourfold each time it is reached, as SQUAREM's reference code does.
        vv = float(np.square(v).sum())
        length = float(np.clip(np.sqrt(rr / vv), 1.0, longest)) if vv > 0 else 1.0
        if length == longest:
            longest *= 4
        candidate, jumped = problem.e_step(problem.valid(theta + 2 * length * r + length**2 * v))
        if not jumped >= objective_1:  # overshot (or not a number): the plain EM steps
            candidate, _ = problem.e_step(second)
        theta = problem.m_step(candidate)
        steps += 2
        before = objective
        posterior, objective = problem.e_step(theta)
        # Or when a cycle no longer raises the objective (by a part in 1e12): the
        # parameters still moving then are ones the labels barely tell apart.
        converged = objective - before <= OBJECTIVE_TOL * abs(before)
    posterior, objective = problem.e_step(theta)
    log_likelihood = objective - problem.log_prior(theta)
    if not identifiable:
        posterior = start
    prior, confusion = problem.split(theta)
    return Fit(
        item_ids=item_ids,
        annotator_ids=annotator_ids,
        posterior=np.ascontiguousarray(posterior[:, pattern].T),
        confusion=confusion,
        prior=prior,
        counts=counts.astype(np.int64),
        clamped=is_clamped,
        iterations=steps,
        identifiable=identifiable,
        converged=converged,
        log_likelihood=log_likelihood,
        patterns=int(size.size),
    )
