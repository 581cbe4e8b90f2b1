"""Every number that steers the village simulation (copied into the demo's ``demo_truth.json``).

Roster flow shares, the latent trait model, baseline means and the program's effect, the tie
propensity model and its dynamics, collective action and business economics, sector and
membership probabilities. Used by :mod:`pipeline.simulation` and :mod:`pipeline.sources.demo`.
"""

from __future__ import annotations

#: shares of the baseline roster (exact counts, so every seed gives the same design).
SHARE_NEWCOMERS = 0.045  # new roster entries at each later wave
SHARE_LEFT = 0.06  # dropped from the roster at each later wave (moved away, business closed)
SHARE_NONRESPONSE = 0.035  # on the roster but not interviewed at a later wave
SHARE_REFUSE = 0.02  # consent refused, per wave
SHARE_PARTICIPANTS = 0.5
NEWCOMER_SHARE_MIGRANT = 0.7

#: latent trait model: correlations of the subscale traits.
RHO_WITHIN = 0.5  # two subscales of one dimension
RHO_ACROSS = 0.3  # a trust and a norms subscale
LOADING = 0.8
LOADING_REVERSE = 0.72
THRESHOLDS = (-1.55, -0.7, 0.2, 1.2)
ITEM_SHIFT_SD = 0.15
CHANGE_SD = 0.3  # person-level latent change noise between waves
P_MISSING = 0.015  # per Likert answer …
P_MISSING_HIGH = 0.2  # … for the few (5%) respondents who skip often
SHARE_SKIPPERS = 0.05

#: baseline latent means (SD units) by origin; subscales not listed get 0.
BASE_MEAN = {
    "trust_generalized": {"lokal": 0.10, "pendatang": -0.10},
    "trust_ingroup": {"lokal": 0.45, "pendatang": 0.60},
    "trust_outgroup": {"lokal": 0.10, "pendatang": -0.45},
    "trust_institutional": {"lokal": 0.20, "pendatang": -0.30},
    "norms_reciprocity": {"lokal": 0.50, "pendatang": 0.45},
    "norms_gotong_royong": {"lokal": 0.35, "pendatang": 0.05},
    "norms_transparency": {"lokal": -0.10, "pendatang": -0.25},
    "norms_commitment": {"lokal": 0.10, "pendatang": 0.05},
    "norms_conflict": {"lokal": 0.00, "pendatang": -0.25},
}
#: members of a paguyuban / koperasi / BUMDes start a little higher on these.
MEMBER_BONUS = {"trust_institutional": 0.2, "norms_gotong_royong": 0.15}
#: latent change from the first to any later wave, by program participation (SD units).
EFFECT = {
    "participant": {"trust_generalized": 0.25, "trust_ingroup": 0.15, "trust_outgroup": 0.60,
                    "trust_institutional": 0.30, "norms": 0.40},
    "non_participant": {"trust": 0.03, "norms": 0.03},
}

#: network propensity model (log-odds terms) and tie dynamics.
MEAN_OUTDEGREE = {"info": 4.0, "help": 2.0, "collab": 1.5}
TIE_TERMS = {"same_origin": 1.3, "same_sector": 0.5, "same_rt": 0.8,
             "sociability_sd": 0.5, "popularity_sd": 0.5, "dyad_sd": 0.7}
KEEP_PROB = 0.7  # a tie of the previous wave survives
NEW_TIE_FACTOR = 0.3  # baseline probability × this = chance of a new tie between others
PROGRAM_BONUS = {"info": 0.05, "help": 0.02, "collab": 0.03}  # added, participant pairs of different origin
PROGRAM_BONUS_SAME = 0.25  # share of the bonus for participant pairs of the same origin
FREQ_PROBS = {"info": (0.2, 0.35, 0.3, 0.15), "help": (0.4, 0.35, 0.2, 0.05), "collab": (0.3, 0.35, 0.25, 0.1)}

#: collective action: probability by wave (first / later) and participation.
ACTION_PROBS = {
    "joint_purchasing": {"pre": 0.12, "participant": 0.42, "non_participant": 0.13},
    "collective_brand": {"pre": 0.04, "participant": 0.22, "non_participant": 0.05},
    "shared_storage": {"pre": 0.06, "participant": 0.20, "non_participant": 0.07},
    "emergency_fund": {"pre": 0.15, "participant": 0.35, "non_participant": 0.16},
}
JOINT_PURCHASE_COST_FACTOR = 0.75  # input costs / revenue of joint purchasers (25% lower)
REVENUE_MEDIAN = 6_000_000
INPUT_SHARE = {"kuliner": 0.50, "warung": 0.65, "kerajinan": 0.40, "fesyen": 0.42, "jasa": 0.25,
               "pertanian": 0.45, "lainnya": 0.40}
SECTOR_REVENUE = {"warung": 0.2, "jasa": -0.1, "kerajinan": -0.2, "pertanian": -0.1, "lainnya": -0.1}
SECTOR_PROBS = {
    "lokal": {"kuliner": 0.30, "warung": 0.25, "kerajinan": 0.08, "fesyen": 0.06, "jasa": 0.12,
              "pertanian": 0.12, "lainnya": 0.07},
    "pendatang": {"kuliner": 0.35, "warung": 0.20, "kerajinan": 0.05, "fesyen": 0.12, "jasa": 0.15,
                  "pertanian": 0.05, "lainnya": 0.08},
}
MEMBERSHIP_PROBS = {"paguyuban": 0.25, "koperasi": 0.15, "bumdes": 0.08}
FORUM_MEMBER_PROB = 0.85  # participants who call themselves forum members at later waves
CHANNEL_PROBS = {"whatsapp": 0.55, "media_sosial": 0.30, "marketplace": 0.10, "ojek_online": 0.08}
BRAND_CHANNEL_BOOST = {"whatsapp": 0.2, "media_sosial": 0.3, "marketplace": 0.25, "ojek_online": 0.05}
SHARE_SKIP_MONEY = 0.03  # respondents who do not state revenue / input costs
