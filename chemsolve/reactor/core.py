"""The reactor's state as arrays and its step (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ..status import Status

UNITS = ("mol/kgw", "mol")


class Reactor:
    """N cells of water (each with its own equilibrium phases and exchanger) on one database.

    - db: a loaded ``aqueous.Database``; ncells: the number of cells.
    - solution: the water of every cell (a converged result of ``Solution.speciate``, ``react``, or a
      ``WaterState``), or a list of ncells of them.
    - phases: EQUILIBRIUM_PHASES as ``react`` takes them ({name: SI} or {name: (SI, moles[, only])});
      the moles are each cell's own from then on.
    - exchange: an exchanger as ``react`` takes it (composition or ``Exchanger``), or a list per cell.
    - T [K], P [atm]: per cell (default: each water's); settable (``rm.T[:] = ...``).
    - chunk: rows per compiled chunk (cells in parallel over chunks; results do not depend on threads).
    - elements: elements transport may bring that no cell holds yet (e.g. those of an inflowing water):
      the components are fixed at construction.
    - kinetics: kinetic reactants (``reactor.kinetics.Kinetic``), integrated over each step's dt with
      the rest of the cell at equilibrium; their moles per cell are ``kinetic_moles``.
    - kinetic_rtol, kinetic_atol: the integrator's error tolerances on the extents reacted (relative
      to the larger of the reactant's moles and the extent; absolute in moles).
    """

    def __init__(self, db, ncells: int, *, solution, phases=None, exchange=None, T=None, P=None, chunk: int = 16,
                 ionic_strength: str = "newton", elements=(), kinetics=(), kinetic_rtol: float = 1e-6,
                 kinetic_atol: float = 1e-15):
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
        from .kinetics import KineticSet

        self._kin = KineticSet(db, kinetics, N) if kinetics else None
        kin_els = sorted(self._kin.elements()) if self._kin else []
        for el in kin_els:
            if el not in c.primary:
                raise InvalidInputError(f"kinetics: element {el!r} has no master species in {db.path}")
        for el in [*elements, *kin_els]:
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
        # kinetic reactants: moles per cell, what one mole brings (H, O, charge, elements)
        nk = len(self._kin.items) if self._kin else 0
        self.kinetic_names = list(self._kin.names) if self._kin else []
        self.kinetic_moles = self._kin.moles.copy() if self._kin else np.zeros((N, 0))
        self.kinetic_m0 = self._kin.m0.copy() if self._kin else np.zeros((N, 0))
        self.kinetic_steps = np.zeros(N, dtype=np.int64)
        self.kinetic_extent = np.zeros((N, nk))
        self.kinetic_rtol = _tol(kinetic_rtol, "kinetic_rtol")
        self.kinetic_atol = _tol(kinetic_atol, "kinetic_atol")
        self._kin_comp = np.zeros((nk, 3 + len(keys)))
        for j, f in enumerate(self._kin.formulas if self._kin else []):
            self._kin_comp[j, 0], self._kin_comp[j, 1] = f.get("H", 0.0), f.get("O", 0.0)
            for el, v in f.items():
                if el not in ("H", "O"):
                    self._kin_comp[j, 3 + keys.index(el)] = v
        self._kin_cs = None
        if self._kin and self._kin.need_phases:
            from ..aqueous.certificate import cert_system

            self._kin_cs = cert_system(db, self.species, keys, phases=self._kin.need_phases)
            for q, p in enumerate(self._kin_cs.phases):
                if np.isnan(self._kin_cs.ph_rows[q]).any():
                    raise InvalidInputError(f"kinetics: phase {p!r}: its reaction needs species these cells do not "
                                            f"form (elements {self.elements})")
            off = np.abs(self.P - 1.0) > 1e-9
            if off.any():
                raise InvalidInputError("kinetics: the saturation indices the rates need are computed at 1 atm; "
                                        f"cells at P = {self.P[off][0]!r} atm are not supported")

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
        self.water_elements, self.conserved = self._to_state(moles[:, 0], moles[:, 1], moles[:, 2],
                                                             np.maximum(moles[:, 3:], 0.0))

    def _to_state(self, H, O, Q, N) -> tuple[np.ndarray, np.ndarray]:
        """Moles of total H, total O, charge and elements -> (element totals, conserved charge, electrons,
        water): the conserved rows of ``aqueous.system`` (linear, so also for additions)."""
        pr = self._prim()
        w = O - _rowdot(N, pr[:, 2] / pr[:, 3])
        hh = H - 2.0 * O - _rowdot(N, (pr[:, 1] - 2.0 * pr[:, 2]) / pr[:, 3])
        e = hh - Q + _rowdot(N, pr[:, 0] / pr[:, 3])
        return N, np.column_stack([Q, e, w])

    # ------------------------------------------------------------------ the step
    def step(self, dt: float = 0.0, *, client=None, blocks: int | None = None) -> np.ndarray:
        """Every cell to equilibrium with its phases and exchanger, and its kinetic reactants integrated
        over ``dt`` [s] (without kinetic reactants the equilibrium does not depend on ``dt``). Returns
        the status of every cell (``Status`` codes); a cell that failed keeps its last good state.

        client : a ``dask.distributed.Client``: the cells are split into ``blocks`` contiguous blocks
        (default: one per worker), each stepped on a worker, and gathered back; every cell's result is
        the one a local step gives (each cell is solved on its own, with its own kinetic step sizes:
        tested bit for bit)."""
        try:
            dt = float(dt)
        except (TypeError, ValueError):
            raise InvalidInputError(f"step: dt = {dt!r} is not a number") from None
        if not np.isfinite(dt) or dt < 0:
            raise InvalidInputError(f"step: dt = {dt!r}: expected a non-negative finite time [s]")
        if client is not None:
            return self._step_dask(client, blocks, dt)
        if self._kin is not None and dt > 0:
            return self._step_kinetic(dt)
        idx = np.arange(self.n)
        sol = self._solve(idx)
        self._commit([(idx, sol, idx)])
        return self.status

    def _solve(self, idx: np.ndarray, dcomp: np.ndarray | None = None, start=None) -> _Solved:
        """Equilibrium of cells ``idx`` with their totals (plus ``dcomp``: (len(idx), ncomponents) moles of
        H, O, charge and elements added to the water), certified; nothing of the cells changes.
        start : (G, gst, warm) starts of those rows (default: each cell's last state)."""
        from ..aqueous import model as _model
        from ..aqueous import reaction_step as R

        t = self.t
        n = idx.size
        nc = t.nc
        comps = list(t.components)
        el_col = [comps.index(el) for el in self.elements]
        E = np.zeros((n, nc))
        Nw = self.water_elements[idx]
        cons = self.conserved[idx]
        if dcomp is not None:
            dN, dcons = self._to_state(dcomp[:, 0], dcomp[:, 1], dcomp[:, 2], dcomp[:, 3:])
            Nw = Nw + dN
            cons = cons + dcons
        E[:, el_col] = Nw
        ex = self.exchange[idx]
        if self._ex_sites:
            E[:, el_col] += _rowdot(ex, self._ex_counts)
            for k, site in enumerate(self._ex_sites):
                E[:, comps.index(site)] = _rowdot(ex, self._ex_equiv[:, k])
            cons = cons.copy()
            cons[:, 1:] += _rowdot(ex, self._ex_canon[:, 1:])
        G, gst, warm = start if start is not None else (self._G[idx], self._gst[idx], self._warm[idx])
        pm = self.phase_moles[idx]
        rows = _model.new_rows(t, n)
        R.fill_rows(self.db, t, rows, self.eq, pm, E, G, self.W[idx], np.zeros(n), cons, gst, warm,
                    self.T[idx], self.P[idx])
        raw = _model.run(t, rows, mode=self.mode, chain=False, chunk=self.chunk)
        status = raw.status.copy()
        W = 10.0 ** raw.X[:, t.ilw]
        npp = len(self.eq)
        nph = raw.X[:, t.nb + 2:t.nb + 2 + npp]
        cert = R._certify(self.db, t, raw, rows, self.eq, W, nph, status, E, cons, pm)
        return _Solved(raw, status, W, nph, cert)

    def _commit(self, parts) -> None:
        """Take, for each (cells, solved, rows[, veto]) of ``parts``, the rows' equilibrium as the cells' new
        state where it converged (and is not vetoed: MAX_ITER); the others keep theirs. Sets status, nit,
        certificate, messages."""
        from ..certificate import failed_message

        t = self.t
        nc, na = t.nc, t.n_aq
        res = np.zeros((self.n, parts[0][1].raw.res.shape[1])) if self._res is None else self._res.copy()
        certs = []
        self._failed = {}
        for part in parts:
            cells, sol, rr = part[:3]
            raw = sol.raw
            status = sol.status[rr].copy()
            if len(part) > 3:  # vetoed rows keep their cell's state
                status[part[3] & (status == Status.CONVERGED)] = Status.MAX_ITER
            ok = status == Status.CONVERGED
            W = sol.W[rr]
            X = raw.X[rr]
            m = raw.m[rr][:, :na]
            if ok.any():
                c_ok = cells[ok]
                mw = m[ok] * W[ok, None]
                self.water_elements[c_ok] = _rowdot(mw, self._counts)
                Q = _rowdot(mw, self._z)
                ew = _rowdot(mw, self._canon)
                gfw = self._c.gfw_water
                self.conserved[c_ok] = np.column_stack([Q, ew[:, 1], ew[:, 2] + W[ok] / gfw])
                self.W[c_ok] = W[ok]
                if self.exchange.shape[1]:
                    self.exchange[c_ok] = raw.m[rr][ok, na:] * W[ok, None]
                self.phase_moles[c_ok] = self.phase_moles[c_ok] - sol.n[rr][ok]
                self._G[c_ok] = X[ok, :nc]
                self._gst[c_ok] = np.column_stack([-X[ok, t.ih], -X[ok, nc + 1], raw.res[rr][ok, 5],
                                                   raw.res[rr][ok, 4]])
                self._warm[c_ok] = True
                self.pH[c_ok] = -X[ok, t.ih]
                self.pe[c_ok] = -X[ok, nc + 1]
                self.ionic_strength[c_ok] = raw.res[rr][ok, 4]
                self.molality[c_ok] = m[ok]
                self.saturation_index[c_ok] = raw.si[rr][ok, :len(self.saturation_phases)]
            self.status[cells] = status.astype(np.int64)
            self.nit[cells] = raw.res[rr, 1].astype(np.int64)
            res[cells] = raw.res[rr]
            certs.append((cells, sol.cert, rr))
            for q in np.flatnonzero(status == Status.CHECK_FAILED):
                self._failed[int(cells[q])] = failed_message(sol.cert.row(int(rr[q])))
        self._res = res
        whole = len(certs) == 1 and np.array_equal(certs[0][0], np.arange(self.n)) and \
            np.array_equal(certs[0][2], np.arange(self.n))
        self.certificate = certs[0][1] if whole else _gather_certs(self.n, certs)

    def _step_kinetic(self, dt: float) -> np.ndarray:
        """Equilibrium with the kinetic reactants integrated over dt (``kinetics.integrate``)."""
        from . import kinetics as K

        ks = self._kin
        N, nk = self.n, len(ks.items)
        nc = self.t.nc
        G, gst, warm = self._G.copy(), self._gst.copy(), self._warm.copy()
        la_cols = {s: self.species.index(s) for s in ks.need_species if s in self.species}
        for s in ks.need_species:
            if s not in la_cols:
                raise InvalidInputError(f"kinetics: species {s!r} is not formed in these cells (elements "
                                        f"{self.elements})")

        def F(rows, xi):
            sol = self._solve(rows, _rowdot(xi, self._kin_comp), start=(G[rows], gst[rows], warm[rows]))
            ok = sol.status == Status.CONVERGED
            raw = sol.raw
            r_ok = rows[ok]
            G[r_ok] = raw.X[ok, :nc]
            gst[r_ok] = np.column_stack([-raw.X[ok, self.t.ih], -raw.X[ok, nc + 1], raw.res[ok, 5], raw.res[ok, 4]])
            warm[r_ok] = True
            la = {s: raw.la[:, j] for s, j in la_cols.items()}
            mol = {s: raw.m[:, j] for s, j in la_cols.items()}
            si = self._kin_si(raw, self.T[rows]) if ks.need_phases else {}
            r = K.rates(ks, self.kinetic_moles[rows] - xi, self.kinetic_m0[rows], self.T[rows], la, si, mol)
            ok &= np.isfinite(r).all(axis=1)
            r[~ok] = 0.0
            return r, ok, sol

        xi, kst, steps, final = K.integrate(F, N, nk, dt, rtol=self.kinetic_rtol, atol=self.kinetic_atol,
                                            scale=np.maximum(self.kinetic_moles, self.kinetic_m0))
        # each cell's final equilibrium, grouped by the evaluation it came from; a cell whose integration
        # failed keeps its state (veto), whatever its last equilibrium did
        groups: dict[int, tuple] = {}
        for c in range(N):
            sol, r = final[c]
            groups.setdefault(id(sol), (sol, [], []))
            groups[id(sol)][1].append(c)
            groups[id(sol)][2].append(r)
        parts = [(np.array(cells), sol, np.array(rr), kst[np.array(cells)] != 0) for sol, cells, rr in groups.values()]
        self._commit(parts)
        good = (kst == 0) & (self.status == Status.CONVERGED)
        for c in np.flatnonzero(kst != 0):
            if int(c) not in self._failed:
                self._failed[int(c)] = (f"kinetics: the integration over dt = {dt:g} s failed (an equilibrium "
                                        "failed at every step size tried, or the step budget was spent); the cell "
                                        "keeps its state")
        self.kinetic_moles[good] = self.kinetic_moles[good] - xi[good]
        self.kinetic_steps = steps
        self.kinetic_extent = np.where(good[:, None], xi, 0.0)
        return self.status

    def _kin_si(self, raw, T: np.ndarray) -> dict:
        """Saturation indices of the phases the rates need: log IAP from the kernel's log activities
        (the certificate's reading of the phase reactions) minus log K(T)."""
        from ..aqueous.certificate import _log_k

        cs = self._kin_cs
        la = raw.la[:, :self.t.n_aq]
        law = np.log10(raw.res[:, 5])
        pe = -raw.X[:, self.t.nc + 1]
        full = np.column_stack([la, law, -pe])
        rows_p = np.where(np.isnan(cs.ph_rows), 0.0, cs.ph_rows)
        # a species absent from a cell (log a = -inf) makes the SI -inf, not NaN: only terms with a coefficient
        with np.errstate(invalid="ignore"):
            terms = np.where(rows_p.T[None, :, :] != 0.0, full[:, :, None] * rows_p.T[None, :, :], 0.0)
        si = terms.sum(axis=1) - _log_k(cs.ph_coef, T)
        return {p: si[:, q] for q, p in enumerate(cs.phases)}

    _CELL_ARRAYS = ("W", "water_elements", "conserved", "T", "P", "phase_moles", "exchange", "_G", "_gst", "_warm",
                    "status", "nit", "pH", "pe", "ionic_strength", "molality", "saturation_index", "kinetic_moles",
                    "kinetic_m0", "kinetic_steps", "kinetic_extent")

    def _subset(self, idx: np.ndarray) -> Reactor:
        import copy

        sub = copy.copy(self)
        for name in self._CELL_ARRAYS:
            setattr(sub, name, getattr(self, name)[idx].copy())
        sub.n = int(idx.size)
        sub.certificate, sub._res, sub._failed = None, None, {}
        return sub

    def _step_dask(self, client, blocks: int | None, dt: float = 0.0) -> np.ndarray:
        from ..certificate import BatchCertificate

        k = blocks or max(1, len(client.scheduler_info().get("workers", {})))
        parts = [p for p in np.array_split(np.arange(self.n), k) if p.size]
        futures = client.map(_step_block, [self._subset(p) for p in parts], [dt] * len(parts), pure=False)
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


def _tol(v, what: str) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} = {v!r} is not a number") from None
    if not (np.isfinite(x) and x > 0):
        raise InvalidInputError(f"{what} = {v!r}: expected a positive finite number")
    return x


def _units(units: str) -> None:
    if units not in UNITS:
        raise InvalidInputError(f"units={units!r}: expected one of {UNITS}")


def _state_elements(water) -> list[str]:
    """The elements a water holds (above PHREEQC's MIN_TOTAL)."""
    from ..aqueous.reaction_step import MIN_TOTAL, state_of

    return [el for el, v in state_of(water).elements.items() if v > MIN_TOTAL]


def _step_block(sub: Reactor, dt: float = 0.0) -> Reactor:
    """A worker's part of a distributed step (a block of cells, stepped as locally)."""
    sub.step(dt)
    return sub


@dataclass
class _Solved:
    """One batch equilibrium of some cells: the kernel's arrays, status (certified), W, phase moles
    dissolved, certificate."""

    raw: object
    status: np.ndarray
    W: np.ndarray
    n: np.ndarray
    cert: object


def _gather_certs(N: int, parts) -> object:
    """One BatchCertificate of N cells from (cells, certificate, rows) parts."""
    from ..certificate import BatchCertificate

    c0 = parts[0][1]
    values = {k: np.full(N, np.nan) for k in c0.values}
    where = {k: np.empty(N, dtype=object) for k in c0.where}
    checked = np.zeros(N, dtype=bool)
    for cells, c, rr in parts:
        for k in values:
            values[k][cells] = np.asarray(c.values[k])[rr]
        for k in where:
            where[k][cells] = np.asarray(c.where[k])[rr]
        checked[cells] = np.asarray(c.checked)[rr]
    return BatchCertificate(values, dict(c0.tolerances), where, dict(c0.units), checked, c0.domain)


def _rowdot(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B row by row, summed the same way whatever the number of rows (BLAS's blocking depends on
    it, so a cell stepped in a block of another size, on a Dask worker, would differ in the last bit)."""
    if B.ndim == 1:
        return (A * B[None, :]).sum(axis=1)
    return (A[:, :, None] * B[None, :, :]).sum(axis=1)
