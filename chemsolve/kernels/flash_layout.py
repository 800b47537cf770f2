"""Array layouts shared by the flash kernels and ``chemsolve.flash`` (plain integers, no numba).

The Python layer packs a mixture into a component table ``comp`` (N_COMP_ROWS, n) and an EOS vector
``eosp``, and the options into ``fopt``; the kernels read them by these indices.
"""

# rows of the component table ``comp`` (shape (N_COMP_ROWS, n)) packed by chemsolve.flash.eos.pack
C_TC = 0  # critical temperature [K]
C_PC = 1  # critical pressure [Pa]
C_OMEGA = 2  # acentric factor [-]
C_M = 3  # alpha slope m_i of the Soave-form alpha [-]
C_AC = 4  # a_i at Tc: Omega_a R^2 Tc^2 / Pc [Pa m^6 / mol^2]
C_B = 5  # co-volume b_i = Omega_b R Tc / Pc [m^3 / mol]
C_SHIFT = 6  # volume translation c_i (Peneloux): v = v_eos - sum x_i c_i [m^3 / mol]
C_CP0 = 7  # ideal-gas Cp/R = cp0 + cp1 T + cp2 T^2 + cp3 T^3 + cp4 T^4 (rows C_CP0 .. C_CP0 + 4)
C_HAS_CP = 12  # 1.0 when the component has ideal-gas heat capacity data
C_MW = 13  # molar mass [g/mol] (NaN when unknown: phases are then told apart by molar volume)
N_COMP_ROWS = 14

# slots of the EOS vector ``eosp``
E_D1 = 0  # delta_1 of P = RT/(v - b) - a/((v + d1 b)(v + d2 b))
E_D2 = 1  # delta_2
N_EOSP = 2

# root choice
ROOT_MIN_G = 0  # the root of lowest Gibbs energy
ROOT_LIQUID = 1  # the smallest root above B
ROOT_VAPOUR = 2  # the largest root

T_REF = 298.15  # reference temperature of ideal-gas enthalpy and entropy [K]
P_REF = 101325.0  # reference pressure of ideal-gas entropy [Pa]

# --- options vector ``fopt`` (packed by chemsolve.flash.options.FlashOptions.pack) -------------
FO_TOL = 0  # converged when max_i |ln K_i + ln phi_i^V - ln phi_i^L| <= tol
FO_MAX_ITER = 1  # iterations of the two-phase solve (successive substitution + Newton)
FO_STABILITY = 2  # 1: stability analysis before a cold two-phase solve; 0: start from Wilson's K
FO_TRIALS = 3  # 0: the two Wilson trials; 1: Wilson + one pure-component trial per component
FO_STAB_TOL = 4  # a stability trial has converged when max |d ln W| <= this
FO_STAB_MAX_ITER = 5  # iterations per stability trial
FO_TPD_TOL = 6  # a trial is unstable when its tangent-plane distance tm < -this
FO_NEWTON_SWITCH = 7  # successive substitution hands over to Newton when max|g| < this ...
FO_MAX_SS = 8  # ... or after this many substitution steps
FO_NEGATIVE = 9  # 1: a single-phase state reports its negative-flash solution when there is one
FO_ACC_KIND = 10  # acceleration code (codes.ACC_*)
FO_ACC_P1 = 11  # DEM, GDEM: every k-th step; Anderson: depth m
FO_ACC_P2 = 12  # DEM: largest extrapolation factor lambda/(1 - lambda); GDEM: largest |extrapolation| / |step|;
#                Anderson: regularisation
FO_T_MIN = 13  # search interval of T in P-H and P-S flashes [K]
FO_T_MAX = 14
FO_T_GUESS = 15  # first T of a cold P-H / P-S flash [K] (0: from the ideal-gas energy balance)
FO_E_TOL = 16  # relative tolerance of the held H or S
FO_P_MIN = 17  # search interval of P in T-VF flashes [Pa]
FO_P_MAX = 18
FO_SAT_MAX_ITER = 19  # iterations of a saturation (T-VF, P-VF) solve
N_FOPT = 20

# --- per-row scalar outputs ``st`` (N_ST per row) ----------------------------------------------
ST_BETA = 0  # vapour mole fraction (NaN when not solved)
ST_PHASES = 1  # 1 or 2
ST_ZL = 2  # compressibility factor of the liquid (x) phase (NaN when absent)
ST_ZV = 3  # of the vapour (y) phase
ST_NIT = 4  # iterations of the two-phase solve (all attempts)
ST_NSTAB = 5  # stability iterations (all trials)
ST_TPD = 6  # the most negative tangent-plane distance found (0 when none)
ST_RES = 7  # final max |g| of the two-phase solve
ST_PATH = 8  # how the state was found (PATH_*)
ST_T = 9  # temperature of the state [K] (the solved T of P-H / P-S / P-VF)
ST_P = 10  # pressure [Pa] (the solved P of T-VF)
ST_H = 11  # molar enthalpy [J/mol] (NaN without Cp data)
ST_S = 12  # molar entropy [J/mol/K]
ST_LABEL = 13  # single phase: 0 liquid, 1 vapour (phase identification parameter); 2 two phases
ST_NOUTER = 14  # outer iterations (T of P-H / P-S; Newton steps of saturation)
N_ST = 15

# how a state was found
PATH_NONE = 0
PATH_WARM = 1  # two-phase solve from the given K without a stability test (the certificate tests it)
PATH_STABLE = 2  # stability analysis: no trial phase with negative tangent-plane distance
PATH_SPLIT = 3  # stability analysis found an unstable trial; two-phase solve from it
PATH_WILSON = 4  # stability analysis off: two-phase solve from Wilson's K
PATH_SAT = 5  # saturation / vapour-fraction solve
