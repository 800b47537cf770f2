"""Integer codes shared by the numba kernels and the Python layer.

This module imports nothing heavy: the Python layer (``chemsolve.status``) builds its
``Status`` enum from these values and a test keeps the two in sync.
"""

# --- termination status (mirrored by chemsolve.status.Status) -------------------------
CONVERGED = 0
MAX_ITER = 1
NONFINITE = 2
SINGULAR = 3
LINE_SEARCH_FAILED = 4
STAGNATED = 5
DIVERGED = 6
INVALID_INPUT = 7
CHECK_FAILED = 8  # the solver stopped but the independent certificate refused the state

STATUS_NAMES = {
    CONVERGED: "CONVERGED",
    MAX_ITER: "MAX_ITER",
    NONFINITE: "NONFINITE",
    SINGULAR: "SINGULAR",
    LINE_SEARCH_FAILED: "LINE_SEARCH_FAILED",
    STAGNATED: "STAGNATED",
    DIVERGED: "DIVERGED",
    INVALID_INPUT: "INVALID_INPUT",
    CHECK_FAILED: "CHECK_FAILED",
}

# --- methods --------------------------------------------------------------------------
METHOD_NEWTON = 0
METHOD_FIXED_POINT = 1
METHOD_ANDERSON = 2

# --- damping kinds (chemsolve.damping encodes schedules as kind + float params) --------
DAMP_CONSTANT = 0  # params: [alpha]
DAMP_RAMP = 1  # params: [start, factor, max]
DAMP_ADAPTIVE = 2  # params: [start, grow, shrink, min, max]
DAMP_LINESEARCH = 3  # params: [start, c_armijo, shrink, min]
DAMP_CONTROL = 4  # params: [max_change, trace_ln, trace_target_ln]  (NASA CEA control factor)
N_DAMP_PARAMS = 5

# --- slots of the float64 options vector passed to the kernels ------------------------
OPT_FTOL = 0  # converged when max_i |F_i| / fscale_i <= ftol
OPT_RTOL = 1  # step tolerance, relative part
OPT_ATOL = 2  # step tolerance, absolute part
OPT_MAX_ITER = 3
OPT_MAX_STEP = 4  # cap on max_i |dx_i| (absolute)
OPT_MAX_REL_STEP = 5  # cap on |dx_i| / max(|x_i|, atol)
OPT_ANDERSON_M = 6  # Anderson depth
OPT_DIVERGE = 7  # diverged when residual > OPT_DIVERGE * max(residual(x0), 1)
OPT_STALL = 8  # iterations without a new best residual before STAGNATED
OPT_FD_STEP = 9  # relative step of the forward-difference Jacobian
OPT_MAX_BACKTRACK = 10  # trial points per iteration
N_OPTS = 11

# --- activity-coefficient rules of the aqueous model (chemsolve.aqueous.activity) -------
GAMMA_WATEQ = 0  # -gamma a b given: WATEQ Debye-Hueckel
GAMMA_DAVIES = 1  # charged, no -gamma: Davies
GAMMA_NEUTRAL = 2  # uncharged, no -gamma: 0.1 I
# exchange species (EXCHANGE_SPECIES): the equivalent fraction (Gaines-Thomas), times the gamma of
# the exchanging cation by the species' own -gamma a b (WATEQ) or -davies, or by neither (PHREEQC's
# model.cpp calc_gammas, case 4, with the exchanger's default -pitzer_exchange_gammas true)
GAMMA_EX_NONE = 3
GAMMA_EX_DAVIES = 4
GAMMA_EX_WATEQ = 5
# an aqueous species of a database with its own activity model (SIT, Pitzer: chemsolve.kernels.aqueous_activity):
# inside Newton the Debye-Hueckel part -A z^2 sqrt(I) / (1 + 1.5 sqrt(I)); the rest of the model's log gamma
# is held per water between Newton solves (aqueous_solve.solve_row_model) until it no longer moves
GAMMA_MODEL_DH = 6
# LLNL's B-dot model (llnl.dat: LLNL_AQUEOUS_MODEL_PARAMETERS; model.cpp calc_gammas cases 7 and 8): -llnl_gamma a
# (charged: -A z^2 sqrt(I) / (1 + a B sqrt(I)) + Bdot I; neutral: 0), -co2_llnl_gamma (Drummond 1981 polynomial)
GAMMA_LLNL = 7
GAMMA_LLNL_CO2 = 8
# which activity model a database selects (chemsolve.aqueous.activity_models), and the types of its parameters
ACT_NONE, ACT_SIT, ACT_PITZER, ACT_LLNL = 0, 1, 2, 3
P_B0, P_B1, P_B2, P_C0, P_THETA, P_LAMDA, P_ZETA, P_PSI, P_ETHETA, P_MU, P_ETA = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
P_EPS, P_EPS1, P_EPS2 = 20, 21, 22

# --- gas-phase equilibrium modes (chemsolve.gas) ------------------------------------------
MODE_TP = 0
MODE_HP = 1
MODE_SP = 2
MODE_TV = 3
MODE_UV = 4
MODE_NAMES = {"TP": MODE_TP, "HP": MODE_HP, "SP": MODE_SP, "TV": MODE_TV, "UV": MODE_UV}

# --- aqueous model: what each row of the Newton system says (chemsolve.aqueous.system) --
AQ_FIXED = 0  # the unknown equals val
AQ_BAL = 1  # balance column aux of the species (+ phases' releases) equals val [mol], linear
AQ_BALLOG = 2  # the same balance as log10(sum / val): positive sums only (element totals, water)
AQ_RX = 3  # reaction aux (a phase or a redox couple) has saturation index val
AQ_ABSENT = 4  # a component with nothing of it in this water: its species are absent
AQ_AW = 5  # a(H2O) = 1 - 0.017 sum m (the water-activity row, always)
AQ_IONIC = 6  # log10 I = log10(0.5 sum z^2 m) (the ionic-strength row in Newton)
# the potential of a surface (diffuse double layer, PHREEQC's default SURFACE model): the charge of
# its species (balance column aux) equals the Gouy-Chapman charge of its diffuse layer, val = its
# area [m2]; the unknown is F psi / (2 R T ln10)
AQ_PSI = 7
# a component of a GAS_PHASE in the slot of an equilibrium phase (tableau array tab[35]; 0: a phase):
# its slot holds -n [mol] in the gas, its row is SI = log10 n + target (kernels.aqueous_eqs.assemble)
GAS_FIXED_V = 1  # fixed volume: target log10(Z R T / V) + log10 phi
GAS_FIXED_P = 2  # fixed total pressure: target log10 P + log10 phi, and n / n_gas in place of n
# the water-activity row of a database with its own activity model: log10 a(H2O) = -val sum m / ln10, val the
# osmotic coefficient / 55.50837 held between Newton solves (as the rest of log gamma, GAMMA_MODEL_DH)
AQ_AWPHI = 8

# --- which formulation converged an aqueous row (the message says so) ---------------------
AQM_NEWTON = 0  # ionic strength inside Newton (the default)
AQM_OUTER = 1  # ionic strength in an outer fixed point around Newton
AQM_NESTED_I = 2  # ionic strength as a bracketed 1-D root
AQM_NESTED_PH = 3  # charge balance as a bracketed 1-D root over pH
AQM_PHASES = 4  # equilibrium phases added one at a time (after all at once failed)
AQM_NESTED_PE = 5  # electron balance as a bracketed 1-D root over pe (a reaction step's unpoised water)

# --- acceleration of successive substitution (chemsolve.flash.options) ------------------------
ACC_NONE = 0
ACC_DEM = 1  # dominant eigenvalue method (Crowe & Nishio 1975; Michelsen 1982b): params [every, max_factor]
ACC_ANDERSON = 2  # Anderson mixing (Anderson 1965; Walker & Ni 2011): params [depth m, regularisation]
ACC_GDEM = 3  # general dominant eigenvalue method (Crowe & Nishio 1975), two eigenvalues: params [every, max_factor]
