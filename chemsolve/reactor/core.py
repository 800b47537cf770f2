"""The reactor's state as arrays and its step (see the package docstring)."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from ..status import Status

UNITS = ("mol/kgw", "mol")


class Reactor:
    """N cells of water (each with its own equilibrium phases and exchanger) on one database.

    db : a loaded ``aqueous.Database``. ncells : number of cells.
    solution : the water of every cell (a converged result of ``Solution.speciate``, ``react``, or a
        ``WaterState``), or a list of ncells of them.
    phases : EQUILIBRIUM_PHASES as ``react`` takes them ({name: SI} | {name: (SI, moles[, only])}); the
        moles are each cell's own from then on.
    exchange : an exchanger as ``react`` takes it (composition or ``Exchanger``), or a list per cell.
    T [K], P [atm] : per cell (default: each water's); settable (``rm.T[:] = ...``).
    chunk : rows per compiled chunk (cells in parallel over chunks; results do not depend on threads).
    elements : elements transport may bring that no cell holds yet (e.g. those of an inflowing water):
        the components are fixed at construction.
    """

    def __init__(self, db, ncells: int, *, solution, phases=None, exchange=None, T=None, P=None, chunk: int = 16,
                 ionic_strength: str = "newton", elements=()):
        from ..aqueous.exchange import exchange_model, exchangers
        from ..aqueous.reaction_step import (
            MIN_TOTAL,
            _phase_elements,
            _reaction_tableau,
            phase_specs,
            state_of,
        )
        from ..aqueous.system import chem

        try:
            N = int(ncells)
        except (TypeError, ValueError):
            raise InvalidInputError(f"ncells must be a whole number, got {ncells!r}") from None
        if N < 1:
            raise InvalidInputError(f"ncells must be at least 1, got {ncells!r}")
        self.db, self.n, self.chunk, self.mode = db, N, int(chunk), ionic_strength
        sols = solution if isinstance(solution, (list, tuple)) else [solution]
        if len(sols) not in (1, N):
            raise InvalidInputError(f"solution: {len(sols)} waters for {N} cells (give one, or one per cell)")
        states = [state_of(s) for s in sols]
        if any(s.db is not db for s in states):
            raise InvalidInputError("solution: a water comes from another database than db")
        states = states if len(states) == N else states * N
        self.specs = phase_specs(phases, db)
        exs = exchangers(db, exchange, N, "cells")
        c = chem(db)
        self._c = c
        sites = sorted({k for e in exs for k in e.sites}) if exs else []
        els: set[str] = set()
        for st in states:
            els |= {e for e, v in st.elements.items() if v > MIN_TOTAL}
        for e in exs or []:
            els |= {el for el, v in e.elements.items() if v > 0}
        for el in elements:
            if el not in c.primary:
                raise InvalidInputError(f"elements: {el!r} is not an element of {db.path}")
            els.add(el)
        for p in self.specs:
            if p.moles > 0 and p.only != "precipitate":
                els |= {e for e in _phase_elements(db, p) if e not in ("H", "O")}
            for e in _phase_elements(db, p):
                if e not in ("H", "O") and e not in c.primary:
                    raise InvalidInputError(f"equilibrium phase {p.name!r}: element {e!r} has no master species")
        keys = sorted(els, key=lambda e: list(c.primary).index(e))
        # a phase none of whose elements any cell holds takes no part (as in react): every cell the same
        self.eq = [p for p in self.specs if all(e in els or e in ("H", "O") for e in _phase_elements(db, p))]
        self.idle = [p for p in self.specs if p not in self.eq]
        t = _reaction_tableau(db, keys, self.eq, tuple(sites))
        self.t = t
        na = t.n_aq
        self.elements = list(keys)
        self.species = list(t.species[:na])
        self.exchange_species = list(t.species[na:])
        self.phases = [p.name for p in self.eq]
        self.saturation_phases = [p for p in t.reactions if not p.startswith("couple ")]
        # per-species element counts and conserved columns (of the water's species)
        self._counts = np.array([[c.counts.get(s, {}).get(el, 0.0) for el in keys] for s in self.species]
                                ).reshape(na, len(keys))
        self._canon = np.array([c.canon.get(s, (0.0, 0.0, 0.0)) for s in self.species]).reshape(na, 3)
        self._z = np.array([db.species[s].charge for s in self.species])
        # the exchanger's species: what they hold and carry
        self._ex_sites = list(sites)
        if sites:
            em = exchange_model(db, sites, list(db.species))
            idx = {s: i for i, s in enumerate(em.names)}
            self._ex_counts = np.array([[em.counts[idx[s]].get(el, 0.0) for el in keys]
                                        for s in self.exchange_species]).reshape(-1, len(keys))
            self._ex_canon = np.array([em.canon[idx[s]] for s in self.exchange_species]).reshape(-1, 3)
            self._ex_equiv = np.array([[em.equiv[idx[s]] if em.sites[em.site[idx[s]]] == k else 0.0 for k in sites]
                                       for s in self.exchange_species]).reshape(-1, len(sites))
        nx = len(self.exchange_species)
        # the state of every cell
        self.W = np.array([s.water_mass for s in states], dtype=float)
        self.water_elements = np.array([[s.elements.get(el, 0.0) for el in keys] for s in states]).reshape(N, len(keys))
        self.conserved = np.array([[s.charge, s.electrons, s.water] for s in states], dtype=float)  # Q, e-, water
        self.T = np.array([s.T for s in states], dtype=float) if T is None else np.broadcast_to(
            np.asarray(T, dtype=float), (N,)).copy()
        self.P = np.array([s.P for s in states], dtype=float) if P is None else np.broadcast_to(
            np.asarray(P, dtype=float), (N,)).copy()
        self.phase_moles = np.array([[p.moles for p in self.eq]] * N, dtype=float).reshape(N, len(self.eq))
        self.exchange = np.zeros((N, nx))
        if exs:
            col = {s: i for i, s in enumerate(self.exchange_species)}
            for r, e in enumerate(exs):
                for s, x in e.composition.items():
                    if s not in col:
                        raise InvalidInputError(f"exchange species {s!r} is not formed in these cells")
                    self.exchange[r, col[s]] = x
        # starts: log a of the masters, pH, pe, a(H2O), I of each cell's last solution
        ms = list(t.masters)
        self._G = np.array([[s.guess.get(m, np.nan) for m in ms] for s in states]).reshape(N, t.nc)
        for r, e in enumerate(exs or []):
            for j, m in enumerate(ms):
                if m in e.guess:
                    self._G[r, j] = e.guess[m]
        self._gst = np.array([[s.guess.get("pH", 7.0), s.guess.get("pe", 4.0), s.guess.get("aw", 1.0),
                               s.guess.get("I", 1e-3)] for s in states], dtype=float)
        self._warm = np.array([("pH" in s.guess) for s in states], dtype=bool)
        # outputs of the last step
        self.status = np.full(N, -1, dtype=np.int64)  # -1: not stepped yet
        self.nit = np.zeros(N, dtype=np.int64)
        self.pH = self._gst[:, 0].copy()
        self.pe = self._gst[:, 1].copy()
        self.ionic_strength = self._gst[:, 3].copy()
        self.molality = np.zeros((N, na))
        self.saturation_index = np.full((N, len(self.saturation_phases)), np.nan)
        self.certificate = None
        self._res = None
        self._failed: dict[int, str] = {}

    # ------------------------------------------------------------------ components for transport
    @property
    def components(self) -> list[str]:
        """What a transport code moves: ["H", "O", "Charge", elements...] (PhreeqcRM's order)."""
        return ["H", "O", "Charge", *self.elements]

    def _prim(self) -> np.ndarray:
        """(nel, 4) charge, H, O, atoms of each element's primary master species."""
        return np.array([self._c.prim_props[el] for el in self.elements], dtype=float).reshape(-1, 4)

    def get_concentrations(self, units: str = "mol/kgw") -> np.ndarray:
        """(ncells, ncomponents): total H, total O, the charge imbalance [eq] and each element of the water
        of every cell, per kg of water (``"mol/kgw"``) or per cell (``"mol"``)."""
        _units(units)
        pr = self._prim()
        N = self.water_elements
        Q, e, w = self.conserved.T
        # the conserved rows (aqueous.system) rewritten to total H and O: w = O - sum o/a N,
        # hh = H - 2 O - sum (h - 2o)/a N, e = hh - Q + sum z/a N
        O = w + _rowdot(N, pr[:, 2] / pr[:, 3])
        hh = e + Q - _rowdot(N, pr[:, 0] / pr[:, 3])
        H = hh + 2.0 * O + _rowdot(N, (pr[:, 1] - 2.0 * pr[:, 2]) / pr[:, 3])
        out = np.column_stack([H, O, Q, N])
        return out / self.W[:, None] if units == "mol/kgw" else out

    def set_concentrations(self, conc, units: str = "mol/kgw") -> None:
        """Replace the water of every cell by the transported totals ``conc`` (as ``get_concentrations``
        gives them). The mass of water follows from the O and H given (what is not in solutes)."""
        _units(units)
        a = np.asarray(conc, dtype=float)
        if a.shape != (self.n, len(self.components)):
            raise InvalidInputError(f"set_concentrations: expected shape ({self.n}, {len(self.components)}) "
                                    f"[cells, {', '.join(self.components)}], got {a.shape}")
        bad = ~np.isfinite(a)
        if bad.any():
            r, k = np.argwhere(bad)[0]
            raise InvalidInputError(f"set_concentrations: cell {r}, {self.components[k]}: {a[r, k]!r} is not finite")
        moles = a * self.W[:, None] if units == "mol/kgw" else a
        neg = moles[:, 3:] < -1e-30
        if neg.any():
            r, k = np.argwhere(neg)[0]
            raise InvalidInputError(f"set_concentrations: cell {r}, {self.elements[k]}: negative total {a[r, k + 3]!r}")
        pr = self._prim()
        H, O, Q, N = moles[:, 0], moles[:, 1], moles[:, 2], np.maximum(moles[:, 3:], 0.0)
        w = O - _rowdot(N, pr[:, 2] / pr[:, 3])
        hh = H - 2.0 * O - _rowdot(N, (pr[:, 1] - 2.0 * pr[:, 2]) / pr[:, 3])
        e = hh - Q + _rowdot(N, pr[:, 0] / pr[:, 3])
        self.water_elements = N
        self.conserved = np.column_stack([Q, e, w])

    # ------------------------------------------------------------------ the step
    def step(self, dt: float = 0.0, *, client=None, blocks: int | None = None) -> np.ndarray:
        """Every cell to equilibrium with its phases and exchanger (``dt``: the transport step [s];
        without kinetic reactants the equilibrium does not depend on it). Returns the status of every
        cell (``Status`` codes); a cell that failed keeps its last good state.

        client : a ``dask.distributed.Client``: the cells are split into ``blocks`` contiguous blocks
        (default: one per worker), each stepped on a worker, and gathered back; every cell's result is
        the one a local step gives (each cell is solved on its own: tested bit for bit)."""
        if client is not None:
            return self._step_dask(client, blocks)
        from ..aqueous import reaction_step as R

        t, N = self.t, self.n
        nc = t.nc
        comps = list(t.components)
        el_col = [comps.index(el) for el in self.elements]
        E = np.zeros((N, nc))
        E[:, el_col] = self.water_elements
        cons = self.conserved.copy()
        if self._ex_sites:
            E[:, el_col] += _rowdot(self.exchange, self._ex_counts)
            for k, site in enumerate(self._ex_sites):
                E[:, comps.index(site)] = _rowdot(self.exchange, self._ex_equiv[:, k])
            cons[:, 1:] += _rowdot(self.exchange, self._ex_canon[:, 1:])
        from ..aqueous import model as _model

        rows = _model.new_rows(t, N)
        R.fill_rows(self.db, t, rows, self.eq, self.phase_moles, E, self._G, self.W.copy(), np.zeros(N), cons,
                    self._gst, self._warm, self.T, self.P)
        raw = _model.run(t, rows, mode=self.mode, chain=False, chunk=self.chunk)
        status = raw.status.copy()
        W = 10.0 ** raw.X[:, t.ilw]
        npp = len(self.eq)
        n = raw.X[:, t.nb + 2:t.nb + 2 + npp]
        cert = R._certify(self.db, t, raw, rows, self.eq, W, n, status, E, cons, self.phase_moles)
        ok = status == Status.CONVERGED
        na = t.n_aq
        m = raw.m[:, :na]
        # the new state of the cells that converged: the water's totals from its species, the
        # exchanger's moles, the phases' moles; the others keep theirs
        if ok.any():
            mw = m[ok] * W[ok, None]
            self.water_elements[ok] = _rowdot(mw, self._counts)
            Q = _rowdot(mw, self._z)
            ew = _rowdot(mw, self._canon)
            gfw = self._c.gfw_water
            self.conserved[ok] = np.column_stack([Q, ew[:, 1], ew[:, 2] + W[ok] / gfw])
            self.W[ok] = W[ok]
            if self.exchange.shape[1]:
                self.exchange[ok] = raw.m[ok, na:] * W[ok, None]
            self.phase_moles[ok] = self.phase_moles[ok] - n[ok]
            self._G[ok] = raw.X[ok, :nc]
            self._gst[ok] = np.column_stack([-raw.X[ok, t.ih], -raw.X[ok, nc + 1], raw.res[ok, 5], raw.res[ok, 4]])
            self._warm[ok] = True
            self.pH[ok] = -raw.X[ok, t.ih]
            self.pe[ok] = -raw.X[ok, nc + 1]
            self.ionic_strength[ok] = raw.res[ok, 4]
            self.molality[ok] = m[ok]
            self.saturation_index[ok] = raw.si[ok, :len(self.saturation_phases)]
        self.status = status.astype(np.int64)
        self.nit = raw.res[:, 1].astype(np.int64)
        self.certificate = cert
        from ..certificate import failed_message

        self._res = raw.res
        self._failed = {int(r): failed_message(cert.row(int(r))) for r in np.flatnonzero(status == Status.CHECK_FAILED)}
        return self.status

    _CELL_ARRAYS = ("W", "water_elements", "conserved", "T", "P", "phase_moles", "exchange", "_G", "_gst", "_warm",
                    "status", "nit", "pH", "pe", "ionic_strength", "molality", "saturation_index")

    def _subset(self, idx: np.ndarray) -> Reactor:
        import copy

        sub = copy.copy(self)
        for name in self._CELL_ARRAYS:
            setattr(sub, name, getattr(self, name)[idx].copy())
        sub.n = int(idx.size)
        sub.certificate, sub._res, sub._failed = None, None, {}
        return sub

    def _step_dask(self, client, blocks: int | None) -> np.ndarray:
        from ..certificate import BatchCertificate

        k = blocks or max(1, len(client.scheduler_info().get("workers", {})))
        parts = [p for p in np.array_split(np.arange(self.n), k) if p.size]
        futures = client.map(_step_block, [self._subset(p) for p in parts], pure=False)
        done = client.gather(futures)
        for p, sub in zip(parts, done):
            for name in self._CELL_ARRAYS:
                getattr(self, name)[p] = getattr(sub, name)
        certs = [sub.certificate for sub in done]
        self.certificate = BatchCertificate(
            {key: np.concatenate([c.values[key] for c in certs]) for key in certs[0].values},
            dict(certs[0].tolerances), {key: np.concatenate([c.where[key] for c in certs]) for key in certs[0].where},
            dict(certs[0].units), np.concatenate([c.checked for c in certs]), certs[0].domain)
        self._res = np.concatenate([sub._res for sub in done])
        self._failed = {int(p[r]): msg for p, sub in zip(parts, done) for r, msg in sub._failed.items()}
        return self.status

    # ------------------------------------------------------------------ outputs
    @property
    def message(self) -> list[str]:
        """Per cell, what its last step did ("converged", or why not), composed when asked."""
        if self._res is None:
            return ["not stepped yet"] * self.n
        from ..aqueous import model as _model

        return [self._failed[r] if r in self._failed else _model.status_message(self._res[r], self.mode)[1]
                for r in range(self.n)]

    def totals(self) -> np.ndarray:
        """(ncells, nelements) moles of each element in the cell: water, exchanger and phases are not
        separated here for the phases (their moles are ``phase_moles``); water + exchanger."""
        out = self.water_elements.copy()
        if self._ex_sites:
            out += _rowdot(self.exchange, self._ex_counts)
        return out

    def __repr__(self) -> str:
        return (f"Reactor({self.n} cells; components {self.components}; phases {self.phases}; "
                f"exchange species {self.exchange_species})")


def _units(units: str) -> None:
    if units not in UNITS:
        raise InvalidInputError(f"units={units!r}: expected one of {UNITS}")


def _state_elements(water) -> list[str]:
    """The elements a water holds (above PHREEQC's MIN_TOTAL)."""
    from ..aqueous.reaction_step import MIN_TOTAL, state_of

    return [el for el, v in state_of(water).elements.items() if v > MIN_TOTAL]


def _step_block(sub: Reactor) -> Reactor:
    """A worker's part of a distributed step (a block of cells, stepped as locally)."""
    sub.step()
    return sub


def _rowdot(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B row by row, summed the same way whatever the number of rows (BLAS's blocking depends on
    it, so a cell stepped in a block of another size, on a Dask worker, would differ in the last bit)."""
    if B.ndim == 1:
        return (A * B[None, :]).sum(axis=1)
    return (A[:, :, None] * B[None, :, :]).sum(axis=1)
