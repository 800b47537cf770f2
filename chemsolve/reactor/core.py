"""The reactor's state as arrays and its step (see the package docstring)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..kernels import codes as _c
from ..status import Status

UNITS = ("mol/kgw", "mol", "mol/L")
INITIAL_KINDS = ("solution", "equilibrium_phases", "exchange", "surface")
NOT_MODELLED = ("gas_phase", "solid_solutions", "kinetics")  # PhreeqcRM's other three
_PER = {"cell": 0, "water": 1, "rock": 2}  # PhreeqcRM's SetUnitsPPassemblage / Exchange / Surface codes


class Reactor:
    """N cells of water (each with its own equilibrium phases and exchanger) on one database.

    - db: a loaded ``aqueous.Database``; ncells: the number of cells.
    - solution: the water of every cell (a converged result of ``Solution.speciate``, ``react``, or a
      ``WaterState``), or a list of ncells of them.
    - phases: EQUILIBRIUM_PHASES as ``react`` takes them ({name: SI} or {name: (SI, moles[, only])}), or
      a list of one such assemblage (or None) per cell; the moles are each cell's own from then on. A
      phase absent from a cell's assemblage can neither dissolve nor form there (as in PHREEQC); a
      phase in several assemblages must have the same target SI, formula and only-flag in all.
    - exchange: an exchanger as ``react`` takes it (composition or ``Exchanger``), or a list per cell
      (None: no exchanger in that cell).
    - T [K], P [atm]: per cell (default: each water's); settable (``rm.T[:] = ...``).
    - chunk: rows per compiled chunk (cells in parallel over chunks; results do not depend on threads).
    - elements: elements transport may bring that no cell holds yet (e.g. those of an inflowing water):
      the components are fixed at construction.
    - units: the default units of ``get_concentrations`` / ``set_concentrations`` ("mol/kgw", "mol" or
      "mol/L", see ``get_concentrations``).
    - porosity, saturation, representative_volume [L]: per cell (or one for all), PhreeqcRM's three
      arrays; the water volume of a cell is porosity * saturation * representative_volume, used by
      "mol/L" only. Settable (``rx.porosity[:] = ...``). Defaults 1 (PhreeqcRM's porosity default is
      0.1): a cell is then 1 L of water, near the 1 kg a SOLUTION holds.
    - kinetics: kinetic reactants (``reactor.kinetics.Kinetic``), integrated over each step's dt with
      the rest of the cell at equilibrium; their moles per cell are ``kinetic_moles``.
    - kinetic_rtol, kinetic_atol: the integrator's error tolerances on the extents reacted (relative
      to the larger of the extent and the smaller of the reactant's moles and its starting rate times
      dt; absolute in moles).
    - surface: SURFACE as ``react`` takes it ({site: moles or (moles, m2/g, g)}, a ``Surface``, or one
      per cell), the same electrostatic model in every cell; its species' moles per cell are
      ``surface`` (columns ``surface_species``), the potential of each diffuse-double-layer surface
      ``surface_potential`` [V].
    """

    def __init__(self, db, ncells: int, *, solution, phases=None, exchange=None, T=None, P=None, chunk: int = 16,
                 ionic_strength: str = "newton", elements=(), units: str = "mol/kgw", porosity=1.0,
                 saturation=1.0, representative_volume=1.0, kinetics=(), kinetic_rtol: float = 1e-6,
                 kinetic_atol: float = 1e-15, surface=None):
        from ..aqueous.exchange import exchange_model
        from ..aqueous.reaction_step import (
            MIN_TOTAL,
            _phase_elements,
            _reaction_tableau,
            phase_specs,
            state_of,
        )
        from ..aqueous.surface import Surface, surface_model, surface_name, surfaces
        from ..aqueous.system import chem

        N = _ncells(ncells)
        self.db, self.n, self.chunk, self.mode = db, N, int(chunk), ionic_strength
        sols = solution if isinstance(solution, (list, tuple)) else [solution]
        if len(sols) not in (1, N):
            raise InvalidInputError(f"solution: {len(sols)} waters for {N} cells (give one, or one per cell)")
        states = [state_of(s) for s in sols]
        if any(s.db is not db for s in states):
            raise InvalidInputError("solution: a water comes from another database than db")
        states = states if len(states) == N else states * N
        _units(units)
        self.units = units
        self.porosity, self.saturation, self.representative_volume = (
            _per_cell(name, v, N) for name, v in (("porosity", porosity), ("saturation", saturation),
                                                  ("representative_volume", representative_volume)))
        self.use_solution_density_volume = True  # PhreeqcRM's UseSolutionDensityVolume (see get_concentrations)
        self.specs, moles0, absent0 = _cell_phases(phases, db, N, phase_specs)
        exs = _cell_exchangers(db, exchange, N)
        c = chem(db)
        self._c = c
        sites = sorted({k for e in exs for k in e.sites}) if exs else []
        els: set[str] = set()
        for st in states:
            els |= {e for e, v in st.elements.items() if v > MIN_TOTAL}
        for e in exs or []:
            els |= {el for el, v in e.elements.items() if v > 0}
        sus = _cell_sorbers(db, surface, N, surfaces, lambda first: Surface(db, {}, first.edl), "surface", "surfaces")
        if sus and len({su.edl for su in sus}) > 1:
            raise InvalidInputError("surface: the cells' surfaces must share one electrostatic model (ddl or no_edl)")
        ssites = sorted({k for su in sus for k in su.sites}) if sus else []
        psi = sorted({surface_name(s_) for s_ in ssites}) if sus and sus[0].edl == "ddl" else []
        for su in sus or []:
            els |= {el for el, v in su.elements.items() if v > 0}
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
        t = _reaction_tableau(db, keys, self.eq, tuple(sites), tuple(ssites), tuple(psi))
        self.t = t
        na = t.n_aq
        n_ex = t.n_ex if t.n_ex >= 0 else len(t.species)
        self.elements = list(keys)
        self.species = list(t.species[:na])
        self.exchange_species = list(t.species[na:n_ex])
        self.surface_species = list(t.species[n_ex:])
        self.surfaces_ddl = list(t.psi)
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
        # the surface's species: what they hold, carry (H, electrons, water), their charge and sites
        self._su_sites = list(ssites)
        nsu = len(self.surface_species)
        self.surface = np.zeros((N, nsu))
        self._psi_area = np.zeros((N, len(psi)))  # [m2] of each DDL surface in each cell
        if ssites:
            sm = surface_model(db, ssites, list(db.species))
            idx = {s: i for i, s in enumerate(sm.names)}
            self._su_counts = np.array([[sm.counts[idx[s]].get(el, 0.0) for el in keys]
                                        for s in self.surface_species]).reshape(-1, len(keys))
            self._su_canon = np.array([sm.canon[idx[s]] for s in self.surface_species]).reshape(-1, 3)
            self._su_z = np.array([sm.z[idx[s]] for s in self.surface_species], dtype=float)
            self._su_equiv = np.array([[sm.equiv[idx[s]] if sm.sites[sm.site[idx[s]]] == k else 0.0 for k in ssites]
                                       for s in self.surface_species]).reshape(-1, len(ssites))
            col = {s: i for i, s in enumerate(self.surface_species)}
            for r, su in enumerate(sus):
                for s_, x in su.composition.items():
                    if s_ not in col:
                        raise InvalidInputError(f"surface species {s_!r} is not formed in these cells")
                    self.surface[r, col[s_]] = x
                for q, sname in enumerate(psi):
                    if sname in su.areas:
                        self._psi_area[r, q] = su.areas[sname][0] * su.areas[sname][1]
        self.surface_potential = np.zeros((N, len(psi)))
        self._edl = sus[:1] if sus else None  # what the certificate reads of the cells' surfaces: their model
        # the state of every cell
        self.W = np.array([s.water_mass for s in states], dtype=float)
        self.water_elements = np.array([[s.elements.get(el, 0.0) for el in keys] for s in states]).reshape(N, len(keys))
        self.conserved = np.array([[s.charge, s.electrons, s.water] for s in states], dtype=float)  # Q, e-, water
        self.T = np.array([s.T for s in states], dtype=float) if T is None else np.broadcast_to(
            np.asarray(T, dtype=float), (N,)).copy()
        self.P = np.array([s.P for s in states], dtype=float) if P is None else np.broadcast_to(
            np.asarray(P, dtype=float), (N,)).copy()
        keep = [self.specs.index(p) for p in self.eq]
        self.phase_moles = moles0[:, keep].reshape(N, len(self.eq))
        self._phase_absent = absent0[:, keep].reshape(N, len(self.eq))  # phases a cell's assemblage lacks
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
        for r, e in enumerate([*(exs or []), *(sus or [])]):
            r = r % N
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
        self.molality = _initial_molality(sols if len(sols) == N else sols * N, self.species)
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

    @classmethod
    def from_phreeqc(cls, text: str, ncells: int, database="phreeqc.dat", initial=None, units: str = "mol/kgw",
                     elements=(), *, porosity=1.0, saturation=1.0, representative_volume=1.0,
                     units_phases="cell", units_exchange="cell", units_surface="cell", name: str = "input",
                     **kw) -> Reactor:
        """Cells initialised from a PHREEQC input's numbered blocks, as PhreeqcRM's RunString (or RunFile)
        followed by InitialPhreeqc2Module.

        text : a PHREEQC input, or the path of one (``pathlib.Path``, as PhreeqcRM's RunFile); read and
            run by ``aqueous.phreeqc_input`` (SOLUTION, EQUILIBRIUM_PHASES, EXCHANGE and SURFACE with
            or without -equilibrate, SAVE, USE, ...); what it leaves defined by number when it ends is
            what the cells are made of (PHREEQC's stored entities).
        initial : {"solution": n, "equilibrium_phases": n, "exchange": n, "surface": n}, each one number
            for every cell or a sequence of one per cell (PhreeqcRM's ic1 array; -1: none, not for
            "solution"). Default: solution 1, and equilibrium phases 1, exchange 1 and surface 1 when
            the input defines them.
        units : the reactor's default units, and how the cells are filled. "mol/kgw" or "mol": each cell
            holds the blocks as defined (a SOLUTION's water, 1 kg unless it says otherwise; the phases'
            and exchanger's moles), as PHREEQC's TRANSPORT does. "mol/L": as PhreeqcRM with
            SetUnitsSolution(2): the SOLUTION is scaled to the cell's water volume, porosity *
            saturation * representative_volume [L] over the solution's own volume (PHREEQC's, see
            ``reactor.volume``); the phases' and exchanger's moles are per litre of cell
            (``units_*="cell"``, PhreeqcRM's 0, its default), of water in the cell (``"water"``, 1:
            times porosity, without saturation, as PhreeqcRM) or of rock (``"rock"``, 2: times 1 -
            porosity), times the representative volume. A surface's sites and grams scale alike (its
            specific area stays), as PhreeqcRM's SetUnitsSurface.
        elements : elements beyond those of the input's solutions and exchangers (which are all
            components, so that any SOLUTION of the input can flow in: ``boundary_concentrations``).
        porosity, saturation, representative_volume, and the keywords of ``Reactor`` (T, P, chunk,
            ionic_strength) as ``Reactor`` takes them.

        A block number the input does not define is a one-line error naming it; so is a calculation of
        the input that did not converge (PHREEQC stops there too).
        """
        from ..aqueous.phreeqc_input import input_definitions
        from ..aqueous.reaction_step import MIN_TOTAL, mix

        N = _ncells(ncells)
        _units(units)
        if isinstance(text, os.PathLike):
            name = str(text)
            try:
                text = Path(text).read_text(encoding="utf-8", errors="replace")
            except OSError as err:
                raise InvalidInputError(f"{name}: cannot read the PHREEQC input ({err.strerror})") from None
        defs = input_definitions(text, database, name=name, ionic_strength=kw.get("ionic_strength", "newton"))
        db = defs.db
        if initial is None:
            initial = {"solution": 1, **{k: 1 for k, d in (("equilibrium_phases", defs.equilibrium_phases),
                                                           ("exchange", defs.exchangers),
                                                           ("surface", defs.surfaces)) if 1 in d}}
        ic = _initial_numbers(initial, N)
        blocks = {"solution": ("SOLUTION", defs.solutions), "equilibrium_phases": ("EQUILIBRIUM_PHASES",
                                                                                   defs.equilibrium_phases),
                  "exchange": ("EXCHANGE", defs.exchangers), "surface": ("SURFACE", defs.surfaces)}
        for kind, nums in ic.items():
            word, have = blocks[kind]
            for k in np.unique(nums[nums >= 0]):
                if int(k) not in have:
                    raise InvalidInputError(f"initial[{kind!r}]: {word} {int(k)} is not defined by the input "
                                            f"(defined: {sorted(have) or 'none'})")
        sol = ic.get("solution")
        if sol is None:
            raise InvalidInputError("initial: no 'solution' given: every cell needs one")
        if (sol < 0).any():
            raise InvalidInputError(f"initial['solution']: cell {int(np.flatnonzero(sol < 0)[0])} has none (-1): every "
                                    "cell needs a solution")
        por, sat, rv = (_per_cell(k, v, N) for k, v in (("porosity", porosity), ("saturation", saturation),
                                                        ("representative_volume", representative_volume)))
        f_pp = f_ex = f_su = np.ones(N)
        waters = [defs.solution_results.get(int(k), defs.solutions[int(k)]) for k in sol]
        if units == "mol/L":
            vw = por * sat * rv
            if (vw <= 0).any():
                r = int(np.flatnonzero(vw <= 0)[0])
                raise InvalidInputError(f"cell {r}: porosity * saturation * representative_volume = {float(vw[r])!r}: "
                                        "no water in the cell")
            per = (np.ones(N), por, 1.0 - por)  # PhreeqcRM's porosity_factor (CellInitialize), times rv
            f_pp = rv * per[_per("units_phases", units_phases)]
            f_ex = rv * per[_per("units_exchange", units_exchange)]
            f_su = rv * per[_per("units_surface", units_surface)]
            vols: dict[int, float] = {}
            made: dict[tuple, object] = {}  # cells of one solution and one water volume share their water
            waters = []
            for r, k in enumerate(sol):
                k = int(k)
                if k not in vols:
                    vols[k] = _volume_of(db, defs.solution_results.get(k), f"SOLUTION {k}")
                key = (k, float(vw[r]))
                if key not in made:
                    made[key] = mix([(defs.solutions[k], vw[r] / vols[k])])
                waters.append(made[key])
        pp = ic.get("equilibrium_phases")
        phases = None
        if pp is not None and (pp >= 0).any():
            made_pp: dict[tuple, dict] = {}
            for r, k in enumerate(pp):
                if k >= 0 and (int(k), float(f_pp[r])) not in made_pp:
                    made_pp[int(k), float(f_pp[r])] = {p: {**spec, "moles": spec.get("moles", 10.0) * f_pp[r]}
                                                       for p, spec in defs.equilibrium_phases[int(k)].items()}
            phases = [None if k < 0 else made_pp[int(k), float(f_pp[r])] for r, k in enumerate(pp)]
        ex = ic.get("exchange")
        exchange = None
        if ex is not None and (ex >= 0).any():
            from ..aqueous.exchange import Exchanger

            made_ex: dict[tuple, Exchanger] = {}
            for r, k in enumerate(ex):
                if k >= 0 and (int(k), float(f_ex[r])) not in made_ex:
                    e = defs.exchangers[int(k)]
                    made_ex[int(k), float(f_ex[r])] = Exchanger(db, {s: x * f_ex[r] for s, x in e.composition.items()},
                                                                dict(e.guess))
            exchange = [None if k < 0 else made_ex[int(k), float(f_ex[r])] for r, k in enumerate(ex)]
        su = ic.get("surface")
        surface = None
        if su is not None and (su >= 0).any():
            from dataclasses import replace

            made_su: dict[tuple, object] = {}
            for r, k in enumerate(su):
                if k >= 0 and (int(k), float(f_su[r])) not in made_su:
                    s_, f = defs.surfaces[int(k)], float(f_su[r])
                    made_su[int(k), f] = replace(s_, composition={sp: x * f for sp, x in s_.composition.items()},
                                                 areas={n: (a, g * f) for n, (a, g) in s_.areas.items()})
            # none where the factor is 0 (per litre of rock in a cell of porosity 1): no sites, no grams
            surface = [None if k < 0 or f_su[r] == 0 else made_su[int(k), float(f_su[r])] for r, k in enumerate(su)]
        els = list(elements)
        for st in defs.solutions.values():
            els += [el for el, v in st.elements.items() if v > MIN_TOTAL]
        for e in [*defs.exchangers.values(), *defs.surfaces.values()]:
            els += [el for el, v in e.elements.items() if v > 0]
        rx = cls(db, N, solution=waters, phases=phases, exchange=exchange, elements=list(dict.fromkeys(els)),
                 units=units, porosity=por, saturation=sat, representative_volume=rv, surface=surface, **kw)
        rx._definitions = defs
        # the species of the initial solutions (scaling does not change them): the cells' solution volume
        rx.molality = _initial_molality([defs.solution_results.get(int(k)) for k in sol], rx.species)
        rx.initial = {k: v.copy() for k, v in ic.items()}
        return rx

    # ------------------------------------------------------------------ components for transport
    @property
    def components(self) -> list[str]:
        """What a transport code moves: ["H", "O", "Charge", elements...] (PhreeqcRM's order)."""
        return ["H", "O", "Charge", *self.elements]

    def _prim(self) -> np.ndarray:
        """(nel, 4) charge, H, O, atoms of each element's primary master species."""
        return np.array([self._c.prim_props[el] for el in self.elements], dtype=float).reshape(-1, 4)

    def _component_moles(self, N=None, conserved=None) -> np.ndarray:
        """(rows, ncomponents) moles of H, O, Charge and the elements of waters given by their element
        totals ``N`` (rows, nel) and conserved (charge, electrons, water) (rows, 3); default: the cells."""
        pr = self._prim()
        N = self.water_elements if N is None else N
        Q, e, w = (self.conserved if conserved is None else conserved).T
        # the conserved rows (aqueous.system) rewritten to total H and O: w = O - sum o/a N,
        # hh = H - 2 O - sum (h - 2o)/a N, e = hh - Q + sum z/a N
        O = w + _rowdot(N, pr[:, 2] / pr[:, 3])
        hh = e + Q - _rowdot(N, pr[:, 0] / pr[:, 3])
        H = hh + 2.0 * O + _rowdot(N, (pr[:, 1] - 2.0 * pr[:, 2]) / pr[:, 3])
        return np.column_stack([H, O, Q, N])

    def water_volume(self) -> np.ndarray:
        """(ncells,) porosity * saturation * representative volume [L]: PhreeqcRM's water volume of a cell."""
        por, sat, rv = (_per_cell(k, getattr(self, k), self.n) for k in ("porosity", "saturation",
                                                                         "representative_volume"))
        return por * sat * rv

    def solution_volume(self) -> np.ndarray:
        """(ncells,) the volume of each cell's solution [L] as PHREEQC computes it (``reactor.volume``),
        from the cell's last equilibrium (its last converged step, else its initial solution): what
        PhreeqcRM's GetSolutionVolume gives. Like PhreeqcRM's, it does not change when
        ``set_concentrations`` replaces the water, only when a step speciates it again."""
        from .volume import solution_volume, species_data

        unknown = np.isnan(self.molality).any(axis=1)
        if unknown.any():
            r = int(np.flatnonzero(unknown)[0])
            raise InvalidInputError(f"solution volume of cell {r}: unknown before its first step (its water was given "
                                    "as a WaterState, without species): step first, or give a speciation result")
        if getattr(self, "_vdata", None) is None:
            self._vdata = species_data(self.db, self.species)
        return solution_volume(self._vdata, self.molality, self.T, self.P, self.ionic_strength, self._gst[:, 2],
                               self.W)[0]

    def _litres(self) -> np.ndarray:
        """What "mol/L" divides the moles of a cell by: PHREEQC's solution volume (PhreeqcRM's default,
        ``use_solution_density_volume``), else the water volume (or, where that is not positive, the
        solution volume), as PhreeqcRM's GetConcentrations."""
        if self.use_solution_density_volume:
            return self.solution_volume()
        v = self.water_volume()
        if (v <= 0).any():
            v = np.where(v > 0, v, self.solution_volume())
        return v

    def get_concentrations(self, units: str | None = None) -> np.ndarray:
        """(ncells, ncomponents): total H, total O, the charge imbalance [eq] and each element of the water
        of every cell, per kg of water (``"mol/kgw"``), per cell (``"mol"``) or per litre (``"mol/L"``:
        PhreeqcRM's units 2; the moles over PHREEQC's solution volume of the cell, ``solution_volume()``,
        or, with ``use_solution_density_volume = False``, over ``water_volume()``, as PhreeqcRM's
        GetConcentrations). Default: the reactor's ``units``."""
        units = self.units if units is None else units
        _units(units)
        out = self._component_moles()
        if units == "mol/kgw":
            return out / self.W[:, None]
        if units == "mol/L":
            return out / self._litres()[:, None]
        return out

    def set_concentrations(self, conc, units: str | None = None) -> None:
        """Replace the water of every cell by the transported totals ``conc`` (as ``get_concentrations``
        gives them). The mass of water follows from the O and H given (what is not in solutes). With
        "mol/L", the moles are ``conc`` times the cell's ``water_volume()`` (PhreeqcRM's
        SetConcentrations), and a cell whose saturation is not positive keeps its water, as in PhreeqcRM."""
        units = self.units if units is None else units
        _units(units)
        a = np.asarray(conc, dtype=float)
        if a.shape != (self.n, len(self.components)):
            raise InvalidInputError(f"set_concentrations: expected shape ({self.n}, {len(self.components)}) "
                                    f"[cells, {', '.join(self.components)}], got {a.shape}")
        bad = ~np.isfinite(a)
        if bad.any():
            r, k = np.argwhere(bad)[0]
            raise InvalidInputError(f"set_concentrations: cell {r}, {self.components[k]}: {a[r, k]!r} is not finite")
        if units == "mol/kgw":
            moles = a * self.W[:, None]
        elif units == "mol/L":
            dry = _per_cell("saturation", self.saturation, self.n) <= 0.0
            moles = np.where(dry[:, None], self._component_moles(), a * self.water_volume()[:, None])
        else:
            moles = a
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

    def boundary_concentrations(self, solution=None, *, water=None, units: str | None = None) -> np.ndarray:
        """The transported components of a water, in this reactor's component order and ``units``
        (default: the reactor's), as PhreeqcRM's InitialPhreeqc2Concentrations: ``solution`` the number
        of a SOLUTION of the input of ``from_phreeqc`` (or a list of numbers: one row each), or ``water``
        a result of ``speciate`` / ``react`` (or a ``WaterState``, without "mol/L"). "mol/kgw": per kg of
        its water; "mol": its moles as defined (a SOLUTION holds 1 kg of water unless it says otherwise);
        "mol/L": per litre of its own solution volume (PhreeqcRM divides by the solution's volume here
        whatever UseSolutionDensityVolume says)."""
        from ..aqueous.reaction_step import MIN_TOTAL, state_of

        units = self.units if units is None else units
        _units(units)
        if (solution is None) == (water is None):
            raise InvalidInputError("boundary_concentrations: give solution=<number> or water=<a water>, one of them")
        if water is not None:
            items = [("water", water)]
        else:
            defs = getattr(self, "_definitions", None)
            if defs is None:
                raise InvalidInputError("boundary_concentrations(solution=...): this reactor was not made by "
                                        "Reactor.from_phreeqc; give water=<a water>")
            many = isinstance(solution, (list, tuple, np.ndarray))
            items = []
            for k in (solution if many else [solution]):
                n = _whole("boundary_concentrations: solution", k)
                if n not in defs.solutions:
                    raise InvalidInputError(f"boundary_concentrations: SOLUTION {n} is not defined by the input "
                                            f"(defined: {sorted(defs.solutions)})")
                items.append((f"SOLUTION {n}", defs.solution_results.get(n, defs.solutions[n])))
        rows = []
        for what, w in items:
            st = state_of(w)
            if st.db is not self.db:
                raise InvalidInputError(f"boundary_concentrations: {what} comes from another database than the reactor")
            extra = [el for el, v in st.elements.items() if v > MIN_TOTAL and el not in self.elements]
            if extra:
                raise InvalidInputError(f"boundary_concentrations: {what} holds {extra[0]}, which is not a component "
                                        f"of this reactor (give it in elements=)")
            Nw = np.array([[st.elements.get(el, 0.0) for el in self.elements]]).reshape(1, -1)
            c = self._component_moles(Nw, np.array([[st.charge, st.electrons, st.water]]))[0]
            if units == "mol/kgw":
                c = c / st.water_mass
            elif units == "mol/L":
                c = c / _volume_of(self.db, w, what)
            rows.append(c)
        return np.array(rows) if water is None and isinstance(solution, (list, tuple, np.ndarray)) else rows[0]

    # ------------------------------------------------------------------ the step
    def step(self, dt=0.0, *, client=None, blocks: int | None = None, cells=None) -> np.ndarray:
        """Every cell to equilibrium with its phases and exchanger, and its kinetic reactants integrated
        over ``dt`` [s] (one number, or one per cell; without kinetic reactants the equilibrium does not
        depend on it). Returns the status of every cell (``Status`` codes); a cell that failed keeps its
        last good state.

        cells : only these cells (indices) are stepped; the others keep their state and status.
        client : a ``dask.distributed.Client``: the cells are split into ``blocks`` contiguous blocks
        (default: one per worker), each stepped on a worker, and gathered back; every cell's result is
        the one a local step gives (each cell is solved on its own, with its own kinetic step sizes:
        tested bit for bit)."""
        dts = self._dt_per_cell(dt)
        idx = np.arange(self.n) if cells is None else self._cell_indices(cells)
        if client is not None:
            if cells is not None:
                raise InvalidInputError("step: cells= and client= together are not supported; step all cells")
            return self._step_dask(client, blocks, dts)
        if self._kin is not None and (dts[idx] > 0).any():
            return self._step_kinetic(dts, idx)
        sol = self._solve(idx)
        self._commit([(idx, sol, np.arange(idx.size))])
        return self.status

    def _dt_per_cell(self, dt) -> np.ndarray:
        from .kinetics import _per_cell

        try:
            return _per_cell(dt, self.n, "step: dt [s]")
        except (TypeError, ValueError):
            raise InvalidInputError(f"step: dt = {dt!r} is not a number") from None

    def _cell_indices(self, cells) -> np.ndarray:
        try:
            idx = np.asarray(cells, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError):
            raise InvalidInputError(f"step: cells = {cells!r}: expected cell indices") from None
        if idx.size == 0 or idx.min() < 0 or idx.max() >= self.n or np.unique(idx).size != idx.size:
            raise InvalidInputError(f"step: cells must be distinct indices in 0..{self.n - 1}, got {cells!r}")
        return np.sort(idx)

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
        if self._su_sites:  # the surface's elements, sites, charge (in the cell's balance), electrons, water
            su = self.surface[idx]
            E[:, el_col] += _rowdot(su, self._su_counts)
            for k, site in enumerate(self._su_sites):
                E[:, comps.index(site)] = _rowdot(su, self._su_equiv[:, k])
            cons = cons.copy()
            cons[:, 0] += _rowdot(su, self._su_z)
            cons[:, 1:] += _rowdot(su, self._su_canon[:, 1:])
        G, gst, warm = start if start is not None else (self._G[idx], self._gst[idx], self._warm[idx])
        pm = self.phase_moles[idx]
        rows = _model.new_rows(t, n)
        R.fill_rows(self.db, t, rows, self.eq, pm, E, G, self.W[idx], np.zeros(n), cons, gst, warm,
                    self.T[idx], self.P[idx])
        rows.lo[self._phase_absent[idx]] = 0.0  # not in the cell's assemblage: with no moles, it cannot form
        for q, sname in enumerate(t.psi):  # each DDL surface's potential, held by its charge-potential row
            j = comps.index(f"{sname}_psi")
            area = self._psi_area[idx, q]
            rows.kind[:, j] = np.where(area > 0, _c.AQ_PSI, _c.AQ_FIXED)
            rows.aux[:, j] = j
            rows.val[:, j] = area
            rows.XC[:, j] = 0.0
            rows.X[:, j] = np.where(np.isnan(G[:, j]), 0.0, G[:, j])
        raw = _model.run(t, rows, mode=self.mode, chain=False, chunk=self.chunk)
        status = raw.status.copy()
        W = 10.0 ** raw.X[:, t.ilw]
        npp = len(self.eq)
        nph = raw.X[:, t.nb + 2:t.nb + 2 + npp]
        cert = R._certify(self.db, t, raw, rows, self.eq, W, nph, status, E, cons, pm, self._edl)
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
        vetoed = []
        for part in parts:  # the messages of the cells stepped now are replaced; the others keep theirs
            for c in part[0]:
                self._failed.pop(int(c), None)
        for part in parts:
            cells, sol, rr = part[:3]
            raw = sol.raw
            status = sol.status[rr].copy()
            if len(part) > 3:  # vetoed rows keep their cell's state
                vetoed.append(cells[part[3] & (status == Status.CONVERGED)])
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
                n_ex = na + self.exchange.shape[1]
                if self.exchange.shape[1]:
                    self.exchange[c_ok] = raw.m[rr][ok, na:n_ex] * W[ok, None]
                if self.surface.shape[1]:
                    self.surface[c_ok] = raw.m[rr][ok, n_ex:] * W[ok, None]
                if t.psi:
                    from ..aqueous.surface import F_C_MOL, R_J

                    cols = [t.components.index(f"{s_}_psi") for s_ in t.psi]
                    self.surface_potential[c_ok] = X[ok][:, cols] * (math.log(10.0) * 2.0 * R_J / F_C_MOL) * \
                        self.T[c_ok, None]
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
        v = np.concatenate(vetoed) if vetoed else np.zeros(0, dtype=np.int64)
        if v.size:  # a vetoed row's equilibrium was not taken: not a checked state of its cell (NaN, unchecked)
            import dataclasses

            c = self.certificate
            checked = np.asarray(c.checked, dtype=bool).copy()
            checked[v] = False
            values = {k: np.asarray(x, dtype=float).copy() for k, x in c.values.items()}
            for x in values.values():
                x[v] = np.nan
            self.certificate = dataclasses.replace(c, values=values, checked=checked)

    def _step_kinetic(self, dts: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Cells ``cells`` to equilibrium with their kinetic reactants integrated over their dt
        (``kinetics.integrate``)."""
        from . import kinetics as K

        ks = self._kin
        N, nk = cells.size, len(ks.items)
        # P is settable after construction: the check of the constructor again (the rates' SI is at 1 atm)
        off = np.abs(self.P[cells] - 1.0) > 1e-9
        if ks.need_phases and off.any():
            r = int(cells[np.flatnonzero(off)[0]])
            raise InvalidInputError(f"kinetics: the saturation indices the rates need are computed at 1 atm; cell {r} "
                                    f"is at P = {float(self.P[r])!r} atm, not supported")
        nc = self.t.nc
        G, gst, warm = self._G.copy(), self._gst.copy(), self._warm.copy()
        la_cols = {s: self.species.index(s) for s in ks.need_species if s in self.species}
        for s in ks.need_species:
            if s not in la_cols:
                raise InvalidInputError(f"kinetics: species {s!r} is not formed in these cells (elements "
                                        f"{self.elements})")

        # A reactant cannot give the water more than it holds: the extent the water sees (and the moles the
        # rate sees) is capped at the moles present, as PHREEQC's kinetics.cpp caps it in its right-hand side
        # and after its integration (m = m_original - moles < 0 -> moles = m_original, m = 0). Without it a
        # rate that does not stop at m = 0 (a user rate) drives the moles negative and creates matter.
        def F(local, xi):
            rows = cells[local]
            xi = np.minimum(xi, self.kinetic_moles[rows])
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

        dt = dts[cells]
        xi, kst, steps, final = K.integrate(F, N, nk, dt, rtol=self.kinetic_rtol, atol=self.kinetic_atol,
                                            scale=np.maximum(self.kinetic_moles[cells], self.kinetic_m0[cells]))
        xi = np.minimum(xi, self.kinetic_moles[cells])  # the cap F applies (its final equilibrium is the capped one)
        # each cell's final equilibrium, grouped by the evaluation it came from; a cell whose integration
        # failed keeps its state (veto), whatever its last equilibrium did
        groups: dict[int, tuple] = {}
        for c in range(N):
            sol, r = final[c]
            groups.setdefault(id(sol), (sol, [], []))
            groups[id(sol)][1].append(c)
            groups[id(sol)][2].append(r)
        parts = [(cells[np.array(loc)], sol, np.array(rr), kst[np.array(loc)] != 0) for sol, loc, rr in groups.values()]
        self._commit(parts)
        good = (kst == 0) & (self.status[cells] == Status.CONVERGED)
        for c in np.flatnonzero(kst != 0):
            if int(cells[c]) not in self._failed:
                self._failed[int(cells[c])] = (f"kinetics: the integration over dt = {dt[c]:g} s failed (an "
                                               "equilibrium failed at every step size tried, or the step budget was "
                                               "spent); the cell keeps its state")
        g = cells[good]
        self.kinetic_moles[g] = self.kinetic_moles[g] - xi[good]
        self.kinetic_steps[:] = 0
        self.kinetic_steps[cells] = steps
        self.kinetic_extent[:] = 0.0
        self.kinetic_extent[g] = xi[good]
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
                    "status", "nit", "pH", "pe", "ionic_strength", "molality", "saturation_index", "_phase_absent",
                    "kinetic_moles", "kinetic_m0", "kinetic_steps", "kinetic_extent", "surface", "_psi_area",
                    "surface_potential")

    def _subset(self, idx: np.ndarray) -> Reactor:
        import copy

        sub = copy.copy(self)
        for name in self._CELL_ARRAYS:
            setattr(sub, name, getattr(self, name)[idx].copy())
        sub.n = int(idx.size)
        sub.certificate, sub._res, sub._failed = None, None, {}
        return sub

    def _step_dask(self, client, blocks: int | None, dts: np.ndarray) -> np.ndarray:
        from ..certificate import BatchCertificate

        k = blocks or max(1, len(client.scheduler_info().get("workers", {})))
        parts = [p for p in np.array_split(np.arange(self.n), k) if p.size]
        futures = client.map(_step_block, [self._subset(p) for p in parts], [dts[p] for p in parts], pure=False)
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
    def get(self, name: str) -> np.ndarray:
        """One output of every cell by name (DESIGN section 7): "pH", "pe", "I" (ionic strength), "W" (kg of
        water), "status", "nit", "phase:<name>" (moles of an equilibrium phase), "si:<phase>" (saturation
        index), "species:<name>" (molality), "total:<element>" (mol/kgw in the water), "exchange:<species>"
        (moles sorbed), "kinetic:<name>" (moles of a kinetic reactant), "surface:<species>" (moles on the
        surface), "psi:<surface>" (its potential [V]). A copy, (ncells,)."""
        if not isinstance(name, str):
            raise InvalidInputError(f"get: the name must be a string, got {name!r}")
        plain = {"pH": self.pH, "pe": self.pe, "I": self.ionic_strength, "W": self.W, "status": self.status,
                 "nit": self.nit}
        if name in plain:
            return np.array(plain[name], copy=True)
        kind, _, what = name.partition(":")
        tables = {"phase": (self.phases, self.phase_moles), "si": (self.saturation_phases, self.saturation_index),
                  "species": (self.species, self.molality), "exchange": (self.exchange_species, self.exchange),
                  "kinetic": (self.kinetic_names, self.kinetic_moles),
                  "surface": (self.surface_species, self.surface), "psi": (self.surfaces_ddl, self.surface_potential)}
        if kind == "total" and what in self.elements:
            return self.water_elements[:, self.elements.index(what)] / self.W
        if kind in tables and what in tables[kind][0]:
            names, arr = tables[kind]
            return arr[:, names.index(what)].copy()
        if kind in tables or kind == "total":
            have = self.elements if kind == "total" else tables[kind][0]
            raise InvalidInputError(f"get({name!r}): {what!r} is not one of this reactor's {kind} names "
                                    f"({', '.join(have) or 'none'})")
        raise InvalidInputError(f"get({name!r}): unknown output; known: {', '.join(plain)}, and phase:, si:, species:, "
                                "total:, exchange:, kinetic:, surface:, psi: followed by a name")

    @property
    def message(self) -> list[str]:
        """Per cell, what its last step did ("converged", or why not), composed when asked."""
        if self._res is None:
            return ["not stepped yet"] * self.n
        from ..aqueous import model as _model

        return [self._failed[r] if r in self._failed else _model.status_message(self._res[r], self.mode)[1]
                for r in range(self.n)]

    def totals(self) -> np.ndarray:
        """(ncells, nelements) moles of each element in the water, exchanger and surface of every cell (the
        phases' are apart: ``phase_moles``; the kinetic reactants': ``kinetic_moles``)."""
        out = self.water_elements.copy()
        if self._ex_sites:
            out += _rowdot(self.exchange, self._ex_counts)
        if self._su_sites:
            out += _rowdot(self.surface, self._su_counts)
        return out

    def __repr__(self) -> str:
        return (f"Reactor({self.n} cells; components {self.components}; phases {self.phases}; "
                f"exchange species {self.exchange_species}; surface species {self.surface_species})")


def _ncells(ncells) -> int:
    try:
        N = int(ncells)
    except (TypeError, ValueError):
        raise InvalidInputError(f"ncells must be a whole number, got {ncells!r}") from None
    if N < 1:
        raise InvalidInputError(f"ncells must be at least 1, got {ncells!r}")
    return N


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


def _whole(what: str, v) -> int:
    """A block number: a whole number (1 or 1.0, not 1.5 nor "1")."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) \
            or not float(v).is_integer():
        raise InvalidInputError(f"{what}: {v!r} is not a whole number")
    return int(v)


def _initial_numbers(initial, N: int) -> dict[str, np.ndarray]:
    """{kind: (N,) block numbers} from ``from_phreeqc``'s ``initial`` (one number, or one per cell)."""
    if not isinstance(initial, dict):
        raise InvalidInputError(f"initial: expected {{'solution': n, 'equilibrium_phases': n, 'exchange': n}}, "
                                f"got {initial!r:.80}")
    out = {}
    for kind, v in initial.items():
        if kind in NOT_MODELLED:
            raise InvalidInputError(f"initial[{kind!r}]: not modelled by the reactor (it takes {INITIAL_KINDS})")
        if kind not in INITIAL_KINDS:
            raise InvalidInputError(f"initial: unknown key {kind!r}; expected one of {INITIAL_KINDS}")
        seq = isinstance(v, (list, tuple, np.ndarray))
        vals = list(np.asarray(v).ravel()) if seq else [v]
        if seq and len(vals) != N:
            raise InvalidInputError(f"initial[{kind!r}]: {len(vals)} numbers for {N} cells (give one, or one per cell)")
        nums = np.array([_whole(f"initial[{kind!r}]", x) for x in vals], dtype=np.int64)
        out[kind] = np.where(nums < 0, -1, np.broadcast_to(nums, (N,)))
    return out


def _per(what: str, v) -> int:
    """PhreeqcRM's 0/1/2 per-cell, per-water, per-rock code from a name or the code."""
    if isinstance(v, str) and v in _PER:
        return _PER[v]
    if v in (0, 1, 2) and not isinstance(v, bool):
        return int(v)
    raise InvalidInputError(f"{what}={v!r}: expected 'cell' (0), 'water' (1) or 'rock' (2)")


def _per_cell(what: str, v, N: int) -> np.ndarray:
    """One finite number >= 0 per cell (one given: every cell)."""
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what}: expected numbers, got {v!r:.80}") from None
    if a.ndim > 1 or (a.ndim == 1 and a.size not in (1, N)):
        raise InvalidInputError(f"{what}: {a.size} values for {N} cells (give one, or one per cell)")
    a = np.broadcast_to(a.reshape(-1)[:1] if a.size == 1 else a, (N,)).copy()
    bad = ~np.isfinite(a) | (a < 0)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(f"{what}: cell {r}: {float(a[r])!r} (expected a finite number >= 0)")
    return a


def _cell_phases(phases, db, N: int, phase_specs):
    """(specs of every phase any cell has, moles (N, np), absent (N, np)) from one assemblage or one
    per cell (None: none); a phase's SI, formula and only-flag must be those of every cell that has it."""
    if not isinstance(phases, (list, tuple)):
        specs = phase_specs(phases, db)
        return specs, np.array([[p.moles for p in specs]] * N, dtype=float).reshape(N, len(specs)), \
            np.zeros((N, len(specs)), dtype=bool)
    if len(phases) != N:
        raise InvalidInputError(f"phases: {len(phases)} assemblages for {N} cells (give one, or one per cell)")
    seen: dict[int, list] = {}  # cells sharing one assemblage object: read once
    for a in phases:
        if id(a) not in seen:
            seen[id(a)] = phase_specs(a, db) if a is not None else []
    per = [seen[id(a)] for a in phases]
    union: dict[str, tuple] = {}
    for r, specs in enumerate(per):
        for p in specs:
            if p.name in union:
                q, r0 = union[p.name]
                if (p.si, p.formula, p.only) != (q.si, q.formula, q.only):
                    raise InvalidInputError(f"phases: {p.name} is (SI {p.si:g}, formula {p.formula}, only {p.only}) in "
                                            f"cell {r} but (SI {q.si:g}, formula {q.formula}, only {q.only}) in "
                                            f"cell {r0}: the reactor takes one of each per phase")
                if p.moles > q.moles:
                    union[p.name] = (p, r0)
            else:
                union[p.name] = (p, r)
    specs = [v[0] for v in union.values()]
    col = {p.name: j for j, p in enumerate(specs)}
    moles = np.zeros((N, len(specs)))
    absent = np.ones((N, len(specs)), dtype=bool)
    for r, cell in enumerate(per):
        for p in cell:
            moles[r, col[p.name]] = p.moles
            absent[r, col[p.name]] = False
    return specs, moles, absent


def _cell_exchangers(db, exchange, N: int):
    """One ``Exchanger`` per cell (``aqueous.exchange.exchangers``), None in a list: an empty one."""
    from ..aqueous.exchange import Exchanger, exchangers

    return _cell_sorbers(db, exchange, N, exchangers, lambda first: Exchanger(db, {}), "exchange", "exchangers")


def _cell_sorbers(db, spec, N: int, many, empty, key: str, what: str):
    """One exchanger or surface per cell from the argument ``key`` = ``spec`` (None, one, or a list of one
    per cell, read by ``many``: ``exchangers`` / ``surfaces``); None in a list: ``empty(first given)``;
    all None: None."""
    if spec is None:
        return None
    if isinstance(spec, (list, tuple)) and any(e is None for e in spec):
        if all(e is None for e in spec):
            return None
        if len(spec) != N:
            raise InvalidInputError(f"{key}: {len(spec)} {what} for {N} cells (give one, or one per cell)")
        given = many(db, [e for e in spec if e is not None], len([e for e in spec if e is not None]))
        it = iter(given)
        return [empty(given[0]) if e is None else next(it) for e in spec]
    return many(db, spec, N, "cells")


def _volume_of(db, w, what: str) -> float:
    """PHREEQC's solution volume [L] of a water given as a result (its species' molalities)."""
    from ..aqueous.reaction_step import state_of
    from .volume import solution_volume, species_data

    mol = getattr(w, "molality", None)
    if not mol:
        raise InvalidInputError(f"{what}: its solution volume needs its species (give a result of speciate or "
                                "react, not a WaterState)")
    sp = [s for s in mol if s in db.species]
    st = state_of(w)
    v, _ = solution_volume(species_data(db, sp), np.array([[mol[s] for s in sp]]), st.T, st.P,
                           getattr(w, "ionic_strength", 0.0), getattr(w, "water_activity", 1.0), st.water_mass)
    return float(v[0])


def _initial_molality(waters, species: list[str]) -> np.ndarray:
    """(N, ns) the molalities of the cells' waters given as results (NaN rows: a bare WaterState)."""
    out = np.full((len(waters), len(species)), np.nan)
    rows: dict[int, list] = {}  # cells sharing one water: its row once
    for r, w in enumerate(waters):
        mol = getattr(w, "molality", None)
        if mol:
            if id(w) not in rows:
                rows[id(w)] = [mol.get(s, 0.0) for s in species]
            out[r] = rows[id(w)]
    return out


def _state_elements(water) -> list[str]:
    """The elements a water holds (above PHREEQC's MIN_TOTAL)."""
    from ..aqueous.reaction_step import MIN_TOTAL, state_of

    return [el for el, v in state_of(water).elements.items() if v > MIN_TOTAL]


def _step_block(sub: Reactor, dt=0.0) -> Reactor:
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
