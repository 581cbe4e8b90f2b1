"""Tests of pipeline.analysis.prepost against R (t.test, wilcox.test, effectsize 0.8.3, lme4 1.1.31, lm).

The data come from tests/r/testdata.py (seeded numpy); tests/r/reference.R reads the CSV copy in
tests/r/data (scores written by Python with 17 significant digits, so R sees identical doubles)
and printed the literals below.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from pipeline.analysis import prepost, reml

from pipeline.analysis import scales

_spec = importlib.util.spec_from_file_location(
    "sinergi_testdata", Path(__file__).parents[1] / "r" / "testdata.py")
testdata = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(testdata)

STAT = 1e-6   # statistics
CI = 1e-4     # confidence limits
nan = float("nan")
WAVES = ["pre", "post"]

# ---- paired (scores.csv, written by Python with 17 significant digits) ----
# pre/post = scores of respondents with a score in both waves, group from the pre row (post row when absent)
# tt <- t.test(post, pre, paired=TRUE): t, df, p, ci; ww <- wilcox.test(post, pre, paired=TRUE): V, p
# ef <- effectsize::cohens_d(post, pre, paired=TRUE) (effectsize 0.8.3: d_z, ncp CI via optim)
# dz_ci = noncentral t CI solved with uniroot(function(ncp) pt(t, df, ncp) - 0.975 / 0.025, tol=1e-12) / sqrt(n)
# holm = p.adjust(p, 'holm') over the dimensions within each group; shapiro = shapiro.test(post - pre)$p.value
# sd_diff = sd(post - pre), se_diff = tt$stderr (R 4.2.2)
R_PAIRED = {
    ('trust', 'all'): dict(n=45, n_unmatched=3, mean_pre=3.04761904761905, sd_pre=0.63253293823726, mean_post=3.32169312169312, sd_post=0.690916828765103,
        t=4.19828440388887, df=44, p=0.000128729273996983, ci=[0.14250604562585, 0.405642102522298],
        sd_diff=0.437927640108608, se_diff=0.0652823981672607,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=738, p_wilcoxon=0.000345900850193096, d_z=0.625843287731514, d_z_ci_effectsize=[0.302918685189654, 0.942808580456646], d_z_ci=[0.302918758855337, 0.942808596451103], shapiro=0.72546784335622,
        p_holm=0.000772375643981895),
    ('trust_generalized', 'all'): dict(n=46, n_unmatched=2, mean_pre=2.90942028985507, sd_pre=0.775159499110122, mean_post=3.31159420289855, sd_post=0.880241756671353,
        t=3.34201946367858, df=45, p=0.00168132057551797, ci=[0.159799549284164, 0.644548276802793],
        sd_diff=0.816176033236871, se_diff=0.120338590907189,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=572.5, p_wilcoxon=0.00342819782223997, d_z=0.49275388723251, d_z_ci_effectsize=[0.184019571380274, 0.796604913853058], d_z_ci=[0.184019470104422, 0.796605010833839], shapiro=0.0978218931402005,
        p_holm=0.00840660287758985),
    ('trust_outgroup', 'all'): dict(n=45, n_unmatched=3, mean_pre=3.1537037037037, sd_pre=0.677924723265986, mean_post=3.30925925925926, sd_post=0.695544583125769,
        t=1.68180508688694, df=44, p=0.0996920021577801, ci=[-0.0308522660972801, 0.341963377208391],
        sd_diff=0.620463332901105, se_diff=0.0924932126608635,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=474.5, p_wilcoxon=0.131431843316471, d_z=0.250708699945609, d_z_ci_effectsize=[-0.0474754546745574, 0.546136560364697], d_z_ci=[-0.047475334444769, 0.546136607052569], shapiro=0.398194371746656,
        p_holm=0.0996920021577801),
    ('norms', 'all'): dict(n=45, n_unmatched=3, mean_pre=3.07333333333333, sd_pre=0.903062969716247, mean_post=3.32777777777778, sd_post=0.823349282142178,
        t=3.30100368515269, df=44, p=0.00191676877431333, ci=[0.0990980311286499, 0.409790857760239],
        sd_diff=0.517074619002095, se_diff=0.0770809331685659,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=606, p_wilcoxon=0.00261330069828365, d_z=0.492084575598582, d_z_ci_effectsize=[0.179953204608397, 0.799227734848826], d_z_ci=[0.179953152596032, 0.799227794139312], shapiro=0.312472807474358,
        p_holm=0.00840660287758985),
    ('norms_reciprocity', 'all'): dict(n=45, n_unmatched=3, mean_pre=3.09259259259259, sd_pre=0.996556923341078, mean_post=3.3037037037037, sd_post=0.872770528295799,
        t=2.35913587448492, df=44, p=0.0228215547358902, ci=[0.0307626655045084, 0.391459556717714],
        sd_diff=0.600294540499525, se_diff=0.0894866266052625,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=479, p_wilcoxon=0.0547880294266111, d_z=0.351679212233779, d_z_ci_effectsize=[0.0485798936001884, 0.65102034087104], d_z_ci=[0.0485798897774546, 0.65102035597221], shapiro=0.24114634052802,
        p_holm=0.0618698385758303),
    ('norms_conflict', 'all'): dict(n=41, n_unmatched=7, mean_pre=3.03658536585366, sd_pre=0.944657635749846, mean_post=3.35365853658537, sd_post=0.923606399115881,
        t=2.41040574715582, df=40, p=0.0206232795252768, ci=[0.0512138717118698, 0.582932469751545],
        sd_diff=0.84228927306015, se_diff=0.131543484372223,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=474, p_wilcoxon=0.0244890907457126, d_z=0.37644213321124, d_z_ci_effectsize=[0.0573015238021259, 0.691196163107897], d_z_ci=[0.0573014871776428, 0.691196189075603], shapiro=0.0869989530695415,
        p_holm=0.0618698385758303),
    ('trust', 'lokal'): dict(n=30, n_unmatched=2, mean_pre=2.95238095238095, sd_pre=0.590341104310533, mean_post=3.15714285714286, sd_post=0.651378780301692,
        t=2.64158358234147, df=29, p=0.013157662027741, ci=[0.0462262748472931, 0.363297534676516],
        sd_diff=0.424566214393295, se_diff=0.0775148309259275,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=286, p_wilcoxon=0.0203452414399311, d_z=0.482284971861243, d_z_ci_effectsize=[0.0999983933915073, 0.857147598013516], d_z_ci=[0.0999983866658706, 0.85714756589487], shapiro=0.762613904836165,
        p_holm=0.0789459721664457),
    ('trust_generalized', 'lokal'): dict(n=31, n_unmatched=1, mean_pre=2.82258064516129, sd_pre=0.740289587820284, mean_post=3.21505376344086, sd_post=0.88735306387937,
        t=2.53723181849773, df=30, p=0.0166086387737724, ci=[0.0765630648672625, 0.708383171691877],
        sd_diff=0.861252734336114, se_diff=0.154685557471824,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=281.5, p_wilcoxon=0.0268303646184484, d_z=0.455700287073228, d_z_ci_effectsize=[0.0819998572898406, 0.822542119888117], d_z_ci=[0.0819999147842811, 0.822542019404964], shapiro=0.103992983641943,
        p_holm=0.083043193868862),
    ('trust_outgroup', 'lokal'): dict(n=30, n_unmatched=2, mean_pre=3.04444444444444, sd_pre=0.621198528450994, mean_post=3.09166666666667, sd_post=0.634779806152378,
        t=0.419252096251653, df=29, p=0.678121291055869, ci=[-0.183141059249112, 0.277585503693557],
        sd_diff=0.61692419806311, se_diff=0.112634433183317,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=175.5, p_wilcoxon=0.735357441700561, d_z=0.0765446101327857, d_z_ci_effectsize=[-0.282486312497949, 0.4342654707373], d_z_ci=[-0.28248628611868, 0.434265510379773], shapiro=0.277694707082775,
        p_holm=0.678121291055869),
    ('norms', 'lokal'): dict(n=30, n_unmatched=2, mean_pre=3.01, sd_pre=0.822045388460792, mean_post=3.22666666666667, sd_post=0.758825468704117,
        t=2.10107589256628, df=29, p=0.0444402516784321, ci=[0.00575896423831487, 0.427574369095018],
        sd_diff=0.564821200474758, se_diff=0.103121770819058,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=276, p_wilcoxon=0.0375908989637246, d_z=0.383602220462951, d_z_ci_effectsize=[0.00944180568055448, 0.751625573898192], d_z_ci=[0.00944181052961608, 0.751625618418506], shapiro=0.366075726140644,
        p_holm=0.177761006713728),
    ('norms_reciprocity', 'lokal'): dict(n=30, n_unmatched=2, mean_pre=3.01111111111111, sd_pre=0.976675624035396, mean_post=3.22222222222222, sd_post=0.789457999889013,
        t=1.85910090908529, df=29, p=0.0731873855047695, ci=[-0.0211359391259053, 0.443358161348127],
        sd_diff=0.621969023469667, se_diff=0.113555488074599,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=216, p_wilcoxon=0.152618215436077, d_z=0.339423834861459, d_z_ci_effectsize=[-0.0315874257505393, 0.704923791359303], d_z_ci=[-0.0315874533928654, 0.704923786437704], shapiro=0.350172351440947,
        p_holm=0.219562156514308),
    ('norms_conflict', 'lokal'): dict(n=27, n_unmatched=5, mean_pre=2.98148148148148, sd_pre=0.814312847194132, mean_post=3.2037037037037, sd_post=0.857761613593769,
        t=1.38139671374082, df=26, p=0.178914218051385, ci=[-0.108446234677059, 0.552890679121503],
        sd_diff=0.83589350321554, se_diff=0.160867779698451,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=193, p_wilcoxon=0.215298240519369, d_z=0.265849921511976, d_z_ci_effectsize=[-0.120594190834566, 0.647380301372635], d_z_ci=[-0.120594239718066, 0.647380373771051], shapiro=0.0422769758696803,
        p_holm=0.35782843610277),
    ('trust', 'pendatang'): dict(n=15, n_unmatched=1, mean_pre=3.23809523809524, sd_pre=0.690827965751016, mean_post=3.65079365079365, sd_post=0.668829501004953,
        t=3.58785279854485, df=14, p=0.00296919879737979, ci=[0.165990949661089, 0.659405875735737],
        sd_diff=0.445496002521467, se_diff=0.115026573237841,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=110, p_wilcoxon=0.00489777905169981, d_z=0.926379609160525, d_z_ci_effectsize=[0.305460306651313, 1.52464948797047], d_z_ci=[0.305460240002702, 1.5246494564533], shapiro=0.515299390981572,
        p_holm=0.0178151927842788),
    ('trust_generalized', 'pendatang'): dict(n=15, n_unmatched=1, mean_pre=3.08888888888889, sd_pre=0.840131005153426, mean_post=3.51111111111111, sd_post=0.860201772810943,
        t=2.20286550171067, df=14, p=0.0448586630202211, ci=[0.0111319396507003, 0.833312504793744],
        sd_diff=0.742332944882686, se_diff=0.19166954219145,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=53.5, p_wilcoxon=0.0745030210237047, d_z=0.568777426804017, d_z_ci_effectsize=[0.0127581932727416, 1.10757875699557], d_z_ci=[0.0127582647273263, 1.10757875299691], shapiro=0.210429503518894,
        p_holm=0.134575989060663),
    ('trust_outgroup', 'pendatang'): dict(n=15, n_unmatched=1, mean_pre=3.37222222222222, sd_pre=0.753870085505524, mean_post=3.74444444444444, sd_post=0.617588328836729,
        t=2.45046472620094, df=14, p=0.0280187655957766, ci=[0.046432073670645, 0.6980123707738],
        sd_diff=0.588300844464704, se_diff=0.151898624878104,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=74.5, p_wilcoxon=0.0452013529765221, d_z=0.632707271669664, d_z_ci_effectsize=[0.0666726799736106, 1.18022238566835], d_z_ci=[0.0666726896424364, 1.18022231661123], shapiro=0.62990034889437,
        p_holm=0.112075062383106),
    ('norms', 'pendatang'): dict(n=15, n_unmatched=1, mean_pre=3.2, sd_pre=1.06653645038508, mean_post=3.53, sd_post=0.933847647409056,
        t=3.0972086371896, df=14, p=0.00787593701790864, ci=[0.101478227680809, 0.558521772319191],
        sd_diff=0.412656896568704, se_diff=0.106547552540549,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=71.5, p_wilcoxon=0.0117355654789519, d_z=0.799695831437673, d_z_ci_effectsize=[0.204115453040933, 1.37405493491377], d_z_ci=[0.204115386419465, 1.37405491901569], shapiro=0.128051063435404,
        p_holm=0.0393796850895432),
    ('norms_reciprocity', 'pendatang'): dict(n=15, n_unmatched=1, mean_pre=3.25555555555556, sd_pre=1.05006928468816, mean_post=3.46666666666667, sd_post=1.02971717491623,
        t=1.42069370626774, df=14, p=0.17729402313064, ci=[-0.107598191805529, 0.529820414027751],
        sd_diff=0.575514492621108, se_diff=0.148597203028171,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=56.5, p_wilcoxon=0.18149641476295, d_z=0.366821537629109, d_z_ci_effectsize=[-0.162898164724622, 0.884416580546601], d_z_ci=[-0.162898134875436, 0.884416554086695], shapiro=0.810884355985548,
        p_holm=0.17729402313064),
    ('norms_conflict', 'pendatang'): dict(n=14, n_unmatched=2, mean_pre=3.14285714285714, sd_pre=1.1836802360008, mean_post=3.64285714285714, sd_post=1.00820807201863,
        t=2.18848661960966, df=13, p=0.0474905461527807, ci=[0.00642406558370591, 0.993575934416294],
        sd_diff=0.85485041426511, se_diff=0.228468383365844,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr
        V=64, p_wilcoxon=0.0509136656636499, d_z=0.584897651865602, d_z_ci_effectsize=[0.00631808930576057, 1.14460345354302], d_z_ci=[0.00631806389843482, 1.14460342279942], shapiro=0.142032805419198,
        p_holm=0.134575989060663),
}

# ---- Wilcoxon special cases (wilcox_cases.csv) : wilcox.test(post, pre, paired=TRUE) ----
R_WILCOX = {
    'exact_n12': (29, 0.4697265625),
    'exact_negative_n10': (13, 0.16015625),
    'normal_n60': (913, 0.991189614982332),
    'ties_zeros_n20': (150, 0.00346151546686533),
    'all_plus_one_n8': (36, 0.00596207853209371),
}

# ---- mixed: lme4::lmer(score ~ wave * group + (1 | respondent_id), REML=TRUE) ----
# wave = factor(levels=c('pre','post')), group = factor (lokal first); fixef(m), sqrt(diag(vcov(m))), VarCorr(m)
R_LMER = {
    'trust': dict(est=[2.95656168113968, 0.212840142563808, 0.302366890288887, 0.195045507857521],
        se=[0.112776887164156, 0.0783530635095387, 0.194485766483589, 0.135730742378514],
        var_respondent=0.308900238420445, var_residual=0.0927971549599126),
    'trust_generalized': dict(est=[2.82700752418785, 0.396950809145493, 0.297992475812156, 0.00711282772861106],
        se=[0.146638369019579, 0.147046260885717, 0.251969821130825, 0.256817888337065],
        var_respondent=0.333971170787852, var_residual=0.337804501083788),
    'trust_outgroup': dict(est=[3.05084025333887, 0.0647211662802415, 0.329368079994471, 0.303963951230445],
        se=[0.115191875503119, 0.109937454381185, 0.198065090966313, 0.190462848674195],
        var_respondent=0.231399593946149, var_residual=0.183970199294938),
    'norms': dict(est=[3.05470121998773, 0.216565889838034, 0.0952987800122751, 0.122559200599617],
        se=[0.152903301373803, 0.094612846445347, 0.263899412471039, 0.163893129807908],
        var_respondent=0.605124983869343, var_residual=0.135090701435485),
    'norms_reciprocity': dict(est=[3.05337234125276, 0.207349087972077, 0.123710992080568, 0.0201421182265589],
        se=[0.167112867419607, 0.110466019394789, 0.288295092362285, 0.191357596772814],
        var_respondent=0.698682890713881, var_residual=0.18431470645372),
    'norms_conflict': dict(est=[3.05938760778558, 0.241052818063489, 0.0343623922144175, 0.279455023540939],
        se=[0.167303556776321, 0.15802005524124, 0.283516346267373, 0.271430909944586],
        var_respondent=0.488188725489369, var_residual=0.350067890363325),
}
# two sites (site = desa_b for odd respondent numbers):
# lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), REML=TRUE)
R_LMER_2SITE = {
    'trust': dict(est=[2.95656169143487, 0.212840126130735, 0.302366879993694, 0.195045534154727],
        se=[0.112776934488576, 0.0783530175487384, 0.194485849458161, 0.135730662726478],
        var_respondent=0.308900694630648, var_site=3.51026890723525e-11, var_residual=0.0927970446393246),
    'norms': dict(est=[3.05470119751999, 0.216565889299287, 0.0952988024800183, 0.122559250217152],
        se=[0.152903126574128, 0.0946129887554403, 0.263899106288834, 0.163893376415915],
        var_respondent=0.605122842725121, var_site=0, var_residual=0.135091112217297),
}

# ---- dose response: m <- lm(change ~ exposure); coef/SE/p from summary(m), confint(m), cor(change, exposure) ----
# change = score[post] - score[pre] per respondent; exposure from the post row of respondents.csv
R_DOSE = {
    ('trust', 'forum_meetings'): dict(n=45, slope=0.0259161277679796, se=0.0548888436128782, p=0.639202487630074, ci=[-0.0847777749707478, 0.136610030506707], r=0.0718172746309254),
    ('trust', 'trainings_n'): dict(n=45, slope=-0.0624379960317461, se=0.0611732129438278, p=0.313116620795949, ci=[-0.185805537377266, 0.060929545313774], r=-0.153799612471663),
    ('trust_generalized', 'forum_meetings'): dict(n=46, slope=0.0498896247240616, se=0.101590303322418, p=0.625805906105898, ci=[-0.154852178469846, 0.254631427917969], r=0.0738320110856248),
    ('trust_generalized', 'trainings_n'): dict(n=46, slope=-0.133967582804792, se=0.113328177054396, p=0.243507032962763, ci=[-0.362365516111044, 0.0944303505014593], r=-0.175447136135189),
    ('trust_outgroup', 'forum_meetings'): dict(n=45, slope=0.00720164609053486, se=0.077961043134346, p=0.926829192526088, ci=[-0.150021781442165, 0.164425073623234], r=0.014085647585139),
    ('trust_outgroup', 'trainings_n'): dict(n=45, slope=-0.00455729166666675, se=0.087712122243507, p=0.958803281754611, ci=[-0.181445644372865, 0.172331061039531], r=-0.00792317676664069),
    ('norms', 'forum_meetings'): dict(n=45, slope=-0.0485344827586207, se=0.0647339736308121, p=0.457486174243273, ci=[-0.179082982404899, 0.0820140168876577], r=-0.113596143801362),
    ('norms', 'trainings_n'): dict(n=45, slope=-0.0841145833333335, se=0.0719645474747484, p=0.24890975190859, ci=[-0.229244924846619, 0.061015758179952], r=-0.175479633864625),
    ('norms_reciprocity', 'forum_meetings'): dict(n=45, slope=-0.0146551724137931, se=0.0756091093134029, p=0.84722321140849, ci=[-0.167135473356697, 0.13782512852911], r=-0.029545608741676),
    ('norms_reciprocity', 'trainings_n'): dict(n=45, slope=-0.121744791666667, se=0.0828078505921129, p=0.148785169040554, ci=[-0.288742737990604, 0.0452531546572705], r=-0.218773462051428),
    ('norms_conflict', 'forum_meetings'): dict(n=41, slope=-0.0584795321637427, se=0.111238577943525, p=0.602064476047124, ci=[-0.283480793727913, 0.166521729400428], r=-0.0838847025391958),
    ('norms_conflict', 'trainings_n'): dict(n=41, slope=-0.0393586005830904, se=0.120235411596993, p=0.745156756203583, ci=[-0.282557675887211, 0.203840474721031], r=-0.0523454743690327),
}

# ---- collective: tt <- t.test(y[x == 1], y[x == 0]) (Welch); estimate = diff(rev(tt$estimate)) ----
R_COLLECTIVE = {
    ('joint_purchasing_input_cost_ratio', 'pre'): dict(n=47, estimate=-0.0635053398638302, ci=[-0.131218344207685, 0.00420766448002485], p=0.0653484549745893),
    ('collective_brand_digital_channels', 'pre'): dict(n=47, estimate=0.942857142857143, ci=[0.233348277591983, 1.6523660081223], p=0.0122839316335776),
    ('joint_purchasing_input_cost_ratio', 'post'): dict(n=47, estimate=-0.108777013882706, ci=[-0.175825380333386, -0.0417286474320252], p=0.00223696607548909),
    ('collective_brand_digital_channels', 'post'): dict(n=47, estimate=1.44444444444444, ci=[0.608656060118834, 2.28023282877006], p=0.0015988138484393),
}

# ---- mixed, 4 sites with real site effects: site = s<id %% 4>, score + c(0, .8, -.6, .3)[id %% 4 + 1] ----
# lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), REML=TRUE)
R_LMER_4SITE = {
    'trust': dict(est=[3.08276699279234, 0.211757842673693, 0.301161578636337, 0.192882085594378],
        se=[0.263565352084651, 0.078409587256277, 0.197813104577052, 0.135822837823058],
        var_respondent=0.322737610993077, var_site=0.22524676354996, var_residual=0.0928627155732234),
    'norms': dict(est=[3.18114504844149, 0.216777184700339, 0.0938549515586411, 0.116454405507596],
        se=[0.273648562213075, 0.0943995241127056, 0.244943062376532, 0.16352056536594],
        var_respondent=0.502812775088173, var_site=0.21888683045597, var_residual=0.134551638017516),
}


# ---- nested random intercepts: tests/r/nested.R (nested.csv from testdata.nested_cases(), and the
# 2-/4-site designs above), each fitted with lme4's defaults and with a tight optimizer:
# tight = lmerControl(optimizer="nloptwrap", optCtrl=list(xtol_abs=1e-14, ftol_abs=1e-15,
#                     xtol_rel=1e-14, ftol_rel=1e-15, maxeval=1e5))
# lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), REML=TRUE[, control=tight])
# est = fixef(m), se = sqrt(diag(vcov(m))), var_* = as.data.frame(VarCorr(m))$vcov, reml = REMLcrit(m)
R_LMER_NESTED = {
    ('nested12', 'default'): dict(terms=['(Intercept)', 'wavepost', 'grouppendatang', 'wavepost:grouppendatang'],
        est=[3.06297187791638, 0.232962650129288, -0.246318064412817, 0.269633411391136],
        se=[0.14059539024713, 0.0572136687331307, 0.0960672646134945, 0.0791600660400961],
        var_respondent=0.259079924010805, var_site=0.179327918792167, var_residual=0.119174783332268, reml=557.80612240075),
    ('nested12', 'tight'): dict(terms=['(Intercept)', 'wavepost', 'grouppendatang', 'wavepost:grouppendatang'],
        est=[3.06297187798808, 0.232962649652927, -0.246318064055935, 0.269633411459559],
        se=[0.140595363270609, 0.0572136693669792, 0.0960672648779384, 0.0791600669190053],
        var_respondent=0.259079925568683, var_site=0.179327827403997, var_residual=0.119174786031839, reml=557.806122400747),
    ('nested3w', 'default'): dict(terms=['(Intercept)', 'wavemid', 'wavepost', 'groupb', 'groupc', 'wavemid:groupb', 'wavepost:groupb', 'wavemid:groupc', 'wavepost:groupc'],
        est=[3.01936482417639, 0.150083811260902, 0.230042632191342, -0.0391191053196919, -0.0868782396649245, 0.0524496486490659, 0.103114101876519, 0.135024112641453, 0.310240168498084],
        se=[0.195618611717949, 0.0925824767498367, 0.0925911902562799, 0.161448190977762, 0.155722737410044, 0.142047371316066, 0.154505953008249, 0.135654123377533, 0.136671372091992],
        var_respondent=0.243907028916465, var_site=0.189977565078929, var_residual=0.137584585969015, reml=399.13482475434),
    ('nested3w', 'tight'): dict(terms=['(Intercept)', 'wavemid', 'wavepost', 'groupb', 'groupc', 'wavemid:groupb', 'wavepost:groupb', 'wavemid:groupc', 'wavepost:groupc'],
        est=[3.01936482364709, 0.150083810418949, 0.230042632343253, -0.039119103211967, -0.0868782372015666, 0.0524496492510805, 0.10311410224038, 0.135024112701193, 0.310240167962543],
        se=[0.195618631010627, 0.0925824783838896, 0.0925911918917993, 0.161448186439886, 0.155722733059356, 0.14204737380699, 0.154505955630776, 0.135654125755683, 0.136671374482126],
        var_respondent=0.243907002300173, var_site=0.189977622313799, var_residual=0.13758459092253, reml=399.13482475434),
}

# R_LMER_2SITE / R_LMER_4SITE designs (see reference.R), control = tight
R_LMER_SITES_TIGHT = {
    ('2site', 'trust'): dict(est=[2.95656168111348, 0.212840142605604, 0.302366890315091, 0.195045507790633],
        se=[0.112776887043995, 0.0783530636264283, 0.194485766272562, 0.135730742581088],
        var_respondent=0.30890023726018, var_site=6.57865959435103e-17, var_residual=0.0927971552404851, reml=145.266394337307),
    ('2site', 'norms'): dict(est=[3.05470121980786, 0.216565889833721, 0.0952987801921267, 0.122559200996869],
        se=[0.1529032999743, 0.0946128475847224, 0.263899410019644, 0.163893131782322],
        var_respondent=0.605124966726652, var_site=8.99429544034498e-17, var_residual=0.13509070472432, reml=190.694586897223),
    ('4site', 'trust'): dict(est=[3.08276699296799, 0.211757842245622, 0.301161578460708, 0.192882086811592],
        se=[0.263565380239974, 0.078409585316772, 0.197813107029812, 0.135822834462362],
        var_respondent=0.322737626060566, var_site=0.225246821640474, var_residual=0.0928627109293932, reml=153.38271126249),
    ('4site', 'norms'): dict(est=[3.18114505873627, 0.216777168778817, 0.0938549412637359, 0.116454412198835],
        se=[0.273647349918084, 0.094399509118757, 0.244943170897682, 0.163520539389647],
        var_respondent=0.502813386368247, var_site=0.218884105766849, var_residual=0.134551594334712, reml=188.114111918228),
}


@pytest.fixture(scope="module")
def data():
    r, a, sm_ = testdata.make_data()
    return r, scales.score(r, a, sm_), sm_


@pytest.fixture(scope="module")
def pp(data):
    r, sc, sm_ = data
    return prepost.paired(sc, WAVES)


def test_prepost_columns(pp):
    assert list(pp.columns) == [
        "dimension", "kind", "group", "wave_pre", "wave_post", "n_pairs", "n_unmatched", "mean_pre",
        "sd_pre", "mean_post", "sd_post", "diff", "sd_diff", "se_diff", "diff_ci_low", "diff_ci_high",
        "t", "dof", "p_val", "p_holm", "d_z", "d_z_ci_low", "d_z_ci_high", "W", "p_wilcoxon",
        "rank_biserial", "shapiro_p", "n_gain", "pct_change"]
    assert len(pp) == 6 * 3


def test_paired_matches_R(pp):
    got = pp.set_index(["dimension", "group"])
    assert set(got.index) == set(R_PAIRED)
    for key, ref in R_PAIRED.items():
        row = got.loc[key]
        assert (row["n_pairs"], row["n_unmatched"]) == (ref["n"], ref["n_unmatched"])
        for ours, theirs in [("mean_pre", "mean_pre"), ("sd_pre", "sd_pre"),
                             ("mean_post", "mean_post"), ("sd_post", "sd_post"), ("t", "t"),
                             ("dof", "df"), ("p_val", "p"), ("W", "V"),
                             ("sd_diff", "sd_diff"), ("se_diff", "se_diff"),
                             ("p_wilcoxon", "p_wilcoxon"), ("d_z", "d_z"),
                             ("shapiro_p", "shapiro"), ("p_holm", "p_holm")]:
            assert row[ours] == pytest.approx(ref[theirs], abs=STAT), (key, ours)
        assert [row["diff_ci_low"], row["diff_ci_high"]] == pytest.approx(ref["ci"], abs=STAT)
        assert row["diff"] == pytest.approx(ref["mean_post"] - ref["mean_pre"], abs=STAT)
        # noncentral-t CI: uniroot in R to 1e-13; effectsize's optim() only to ~1e-7
        assert [row["d_z_ci_low"], row["d_z_ci_high"]] == pytest.approx(ref["d_z_ci"], abs=STAT)
        assert [row["d_z_ci_low"], row["d_z_ci_high"]] == pytest.approx(
            ref["d_z_ci_effectsize"], abs=CI)


def test_wilcoxon_branches_match_R():
    wc = testdata.wilcox_cases()
    for case, (v, p) in R_WILCOX.items():
        z = wc[wc.case == case]
        w, pw, _ = prepost.wilcoxon_signed_rank((z.post - z.pre).to_numpy())
        assert w == pytest.approx(v, abs=STAT), case
        assert pw == pytest.approx(p, abs=STAT), case


def test_rank_biserial_by_hand():
    d = np.array([2.0, -1.0, 3.0, 0.0, 4.0, -5.0])  # zero dropped; ranks of |d|: 2,1,3,4,5
    w, _, rbc = prepost.wilcoxon_signed_rank(d)
    assert w == 2 + 3 + 4
    assert rbc == pytest.approx((9 - 6) / 15)
    assert prepost.wilcoxon_signed_rank(-d)[2] == pytest.approx(-rbc)  # sign follows post - pre


def test_holm_not_holm_sidak(pp):
    for _, part in pp.groupby(["group", "wave_post"]):
        holm = multipletests(part["p_val"], method="holm")[1]
        assert part["p_holm"].to_numpy() == pytest.approx(holm, abs=1e-15)
    part = pp[pp.group == "all"]
    hs = multipletests(part["p_val"])[1]  # statsmodels default = Holm-Sidak
    assert not np.allclose(hs, part["p_holm"], rtol=0, atol=1e-6)


def test_dz_is_not_pingouins_d_avg(data, pp):
    _, sc, _ = data
    row = pp[(pp.dimension == "trust") & (pp.group == "all")].iloc[0]
    wide = sc[sc.dimension == "trust"].pivot(index="respondent_id", columns="wave",
                                             values="score").dropna()
    d_avg = pg.compute_effsize(wide["post"], wide["pre"], paired=True, eftype="cohen")
    assert row["d_z"] == pytest.approx(row["t"] / np.sqrt(row["n_pairs"]), abs=1e-12)
    assert abs(row["d_z"] - d_avg) > 0.1
    d = wide["post"] - wide["pre"]
    assert row["d_z"] == pytest.approx(d.mean() / d.std(ddof=1), abs=1e-12)


def _nodes(r):
    rng = np.random.default_rng(5)
    nodes = r[["respondent_id", "site", "wave", "group"]].copy()
    nodes = pd.concat([nodes.assign(tie_type="any"), nodes.assign(tie_type="info")])
    nodes["degree"] = rng.poisson(3, len(nodes)).astype(float)
    nodes["bridging"] = np.minimum(rng.poisson(1, len(nodes)).astype(float), nodes["degree"])
    nodes["bonding"] = nodes["degree"] - nodes["bridging"]
    nodes["ei"] = np.where(nodes["degree"] > 0,
                           (nodes["bridging"] - nodes["bonding"]) / nodes["degree"].clip(1), nan)
    return nodes


@pytest.fixture(scope="module")
def run_out(data):
    r, sc, sm_ = data
    keep = sc[sc.dimension.isin(["trust", "trust_outgroup"])]  # fewer mixed fits: faster
    return prepost.run(keep, r, WAVES, network_nodes=_nodes(r), scale_map=sm_)


def test_gain_and_pct_change(data, run_out):
    r, sc, sm_ = data
    out = run_out["prepost"]
    row = out[(out.dimension == "trust_outgroup") & (out.group == "all")].iloc[0]
    assert row["n_gain"] == pytest.approx((row.mean_post - row.mean_pre) / (5 - row.mean_pre))
    assert row["pct_change"] == pytest.approx((row.mean_post - row.mean_pre) / row.mean_pre * 100)
    assert prepost.paired(sc, WAVES)["n_gain"].isna().all()  # no scale max given


def _scores(pre, post, dim="trust", group="lokal"):
    rows = []
    for i, (a, b) in enumerate(zip(pre, post)):
        for w, v in (("pre", a), ("post", b)):
            if v is not None:
                rows.append({"respondent_id": f"p{i}", "wave": w, "group": group, "site": "s",
                             "dimension": dim, "score": v})
    return pd.DataFrame(rows)


def test_edge_cases_give_defined_rows():
    # single pair
    one = prepost.paired(_scores([3.0], [4.0]), WAVES).iloc[0]
    assert one.n_pairs == 1 and one["diff"] == 1.0 and one.mean_pre == 3.0
    assert np.isnan([one.t, one.p_val, one.d_z, one.W, one.sd_pre, one.sd_diff, one.se_diff,
                     one.diff_ci_low]).all()
    # identical pre and post: sd(diff) = 0 -> t/d_z/p NaN; all differences 0 -> W NaN (R drops 0s)
    same = prepost.paired(_scores([3.0, 4.0, 2.0], [3.0, 4.0, 2.0]), WAVES).iloc[0]
    assert same.n_pairs == 3 and same["diff"] == 0 and same.sd_diff == 0 and same.se_diff == 0
    assert np.isnan([same.t, same.p_val, same.d_z, same.d_z_ci_low, same.W, same.p_wilcoxon,
                     same.shapiro_p, same.p_holm]).all()
    # constant non-zero shift: t undefined, Wilcoxon defined (ties -> normal approximation)
    shift = prepost.paired(_scores(list(np.arange(8.0)), list(np.arange(8.0) + 1)), WAVES).iloc[0]
    assert np.isnan(shift.t) and shift.W == 36
    assert shift.p_wilcoxon == pytest.approx(R_WILCOX["all_plus_one_n8"][1], abs=STAT)
    assert shift.rank_biserial == 1.0
    # respondent only in one wave, and a NaN score (all items missing) count as unmatched
    part = _scores([3.0, 2.0, None, np.nan, 4.0], [3.5, 2.5, 4.0, 3.0, None])
    row = prepost.paired(part, WAVES).iloc[0]
    assert (row.n_pairs, row.n_unmatched) == (2, 3)
    # a wave nobody answered
    empty = prepost.paired(_scores([3.0, 2.0], [None, None]), WAVES).iloc[0]
    assert empty.n_pairs == 0 and empty.n_unmatched == 2 and np.isnan(empty.mean_pre)


@pytest.fixture(scope="module")
def mm(data):
    r, sc, _ = data
    return prepost.mixed(sc, r, WAVES)


def _check_lmer(got, ref, se_tol=STAT, var_tol=1e-5):
    fixed = got.iloc[:4]
    assert fixed["term"].tolist() == ["intercept", "wave[post]", "group[pendatang]",
                                      "wave[post]:group[pendatang]"]
    assert fixed["estimate"].to_numpy() == pytest.approx(ref["est"], abs=STAT)
    assert fixed["se"].to_numpy() == pytest.approx(ref["se"], abs=se_tol)
    var = got.set_index("term")["estimate"]
    # variance components: both optimizers stop within ~1e-6 of the REML optimum
    assert var["var_respondent"] == pytest.approx(ref["var_respondent"], abs=var_tol)
    assert var["var_residual"] == pytest.approx(ref["var_residual"], abs=var_tol)
    if "var_site" in ref:
        assert var["var_site"] == pytest.approx(ref["var_site"], abs=var_tol)


def test_mixed_matches_lme4(mm):
    assert list(mm.columns) == ["dimension", "kind", "term", "estimate", "se", "ci_low", "ci_high",
                                "p_val", "method", "d_z"]
    assert (mm["kind"] == "scale").all()
    for dim, ref in R_LMER.items():
        got = mm[mm.dimension == dim]
        assert (got["method"] == "mixedlm_reml").all()
        _check_lmer(got, ref)
        f = got.iloc[:4]
        assert f["ci_low"].to_numpy() == pytest.approx(f.estimate - 1.959963984540054 * f.se)


def _resite(df, shift=None):
    k = df["respondent_id"].str[1:].astype(int) % 4
    df = df.copy()
    df["site"] = "s" + k.astype(str)
    if shift is not None:
        df["score"] = df["score"] + np.array(shift)[k]
    return df


def test_mixed_two_sites_boundary_matches_lme4(data):
    r, sc, _ = data
    odd = lambda d: d.assign(site=np.where(d.respondent_id.str[1:].astype(int) % 2, "desa_b",  # noqa
                                            "desa_a"))
    got = prepost.mixed(odd(sc[sc.dimension.isin(["trust", "norms"])]), odd(r), WAVES)
    for dim, ref in R_LMER_2SITE.items():
        g = got[got.dimension == dim]
        assert (g["method"] == "mixedlm_reml").all()
        _check_lmer(g, ref)


def test_mixed_four_sites_matches_lme4(data):
    r, sc, _ = data
    s4 = _resite(sc[sc.dimension.isin(["trust", "norms"])], [0, .8, -.6, .3])
    got = prepost.mixed(s4, _resite(r), WAVES)
    for dim, ref in R_LMER_4SITE.items():
        g = got[got.dimension == dim]
        assert (g["method"] == "mixedlm_reml").all()
        _check_lmer(g, ref, se_tol=1e-5)  # lme4 defaults stop ~1e-6 short: 1e-6 vs the tight fit below


def _lme4_term(name):
    """lme4's fixef name -> ours: '(Intercept)' -> 'intercept', 'wavepost:groupb' -> 'wave[post]:group[b]'."""
    import re

    if name == "(Intercept)":
        return "intercept"
    return ":".join(re.sub(r"^(wave|group)(.+)$", r"\1[\2]", p) for p in name.split(":"))


def _reml_crit(df, waves):
    df = df.dropna(subset=["score"]).reset_index(drop=True)
    x, _ = prepost._design(df, waves, sorted(df["group"].unique()))
    site = pd.factorize(df["site"])[0]
    unit = pd.factorize(df["site"] + ":" + df["respondent_id"])[0]
    return reml.reml_fit(df["score"].to_numpy(float), x, unit, site)["dev"]


NESTED_WAVES = {"nested12": ["pre", "post"], "nested3w": ["pre", "mid", "post"]}


def test_nested_csv_matches_the_generator():
    # written with 17 digits on another machine: equal to 1e-12, not to the last bit of each double
    got = pd.read_csv(testdata.DATA / "nested.csv")
    pd.testing.assert_frame_equal(got, testdata.nested_cases(), check_dtype=False, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", sorted(NESTED_WAVES))
def test_nested_reml_matches_lme4(case):
    waves = NESTED_WAVES[case]
    d = testdata.nested_cases()
    d = d[d["case"] == case].assign(dimension="trust")
    got = prepost.mixed(d, d, waves)
    assert (got["method"] == "mixedlm_reml").all()
    g = got.set_index("term")
    tight, default = R_LMER_NESTED[(case, "tight")], R_LMER_NESTED[(case, "default")]
    terms = [_lme4_term(t) for t in tight["terms"]]
    assert sorted(got["term"].tolist()[:-3]) == sorted(terms)  # same terms, our order
    assert got["term"].tolist()[-3:] == ["var_respondent", "var_site", "var_residual"]
    for ref, tol in ((tight, STAT), (default, 1e-5)):  # lme4's defaults stop ~1e-6 short
        assert g.loc[terms, "estimate"].to_numpy() == pytest.approx(ref["est"], abs=tol)
        assert g.loc[terms, "se"].to_numpy() == pytest.approx(ref["se"], abs=tol)
        for v in ("var_respondent", "var_site", "var_residual"):
            assert g.loc[v, "estimate"] == pytest.approx(ref[v], abs=tol), (case, v)
    # the criterion itself: our profiled REML deviance is lme4's REMLcrit(m) at the optimum,
    # and never above what lme4 reached
    dev = _reml_crit(d, waves)
    assert dev == pytest.approx(tight["reml"], abs=STAT)
    assert dev <= default["reml"] + 1e-9


@pytest.mark.parametrize("design,dim", sorted(R_LMER_SITES_TIGHT))
def test_site_designs_match_tight_lme4(data, design, dim):
    r, sc, _ = data
    part = sc[sc.dimension == dim]
    if design == "2site":
        odd = lambda d: d.assign(site=np.where(d.respondent_id.str[1:].astype(int) % 2,  # noqa
                                               "desa_b", "desa_a"))
        part, resp = odd(part), odd(r)
    else:
        part, resp = _resite(part, [0, .8, -.6, .3]), _resite(r)
    ref = R_LMER_SITES_TIGHT[(design, dim)]
    g = prepost.mixed(part, resp, WAVES)
    _check_lmer(g, ref, se_tol=STAT, var_tol=STAT)
    if design == "2site":  # site variance on its boundary: exactly 0 here, ~1e-16 in lme4
        assert g.set_index("term").loc["var_site", "estimate"] == 0.0
    assert _reml_crit(part, WAVES) == pytest.approx(ref["reml"], abs=STAT)


def test_reml_gradient_is_the_derivative_of_the_criterion():
    d = testdata.nested_cases()
    d = d[d["case"] == "nested3w"].reset_index(drop=True)
    x, _ = prepost._design(d, NESTED_WAVES["nested3w"], ["a", "b", "c"])
    model = reml.NestedModel(d["score"].to_numpy(float), x, pd.factorize(d["site"] + ":" + d["respondent_id"])[0],
                            pd.factorize(d["site"])[0])
    h = 1e-6
    for theta in ([0.5, 0.3], [3.0, 2.0], [0.01, 4.0]):
        theta = np.array(theta)
        grad = model.evaluate(theta, grad=True)["grad"]
        num = [(model.evaluate(theta + h * e)["dev"] - model.evaluate(theta - h * e)["dev"]) / (2 * h)
               for e in np.eye(2)]
        assert grad == pytest.approx(num, rel=1e-5, abs=1e-6)


def test_reml_single_level_equals_nested_without_site_variance():
    # one site: (1 | respondent); the nested model with var_site fixed at 0 is the same criterion
    d = testdata.nested_cases()
    d = d[d["case"] == "nested12"].reset_index(drop=True)
    x, _ = prepost._design(d, ["pre", "post"], ["lokal", "pendatang"])
    y = d["score"].to_numpy(float)
    unit = pd.factorize(d["site"] + ":" + d["respondent_id"])[0]
    one = reml.NestedModel(y, x, unit, None)
    two = reml.NestedModel(y, x, unit, pd.factorize(d["site"])[0])
    for t in (0.0, 0.7, 5.0):
        assert one.evaluate(np.array([t]))["dev"] == pytest.approx(
            two.evaluate(np.array([t, 0.0]))["dev"], abs=1e-9)


def test_mixed_detects_collapsed_random_intercept():
    rng = np.random.default_rng(3)
    n = 40
    group = np.where(np.arange(n) < 20, "lokal", "pendatang")
    pre = 3 + 0.5 * (group == "pendatang") + rng.normal(0, 0.6, n)
    post = 6.6 - pre + 0.5 * (group == "pendatang") + rng.normal(0, 0.1, n)  # negative ICC
    rows = [{"respondent_id": f"p{i}", "wave": w, "group": group[i], "site": "s",
             "dimension": "trust", "score": v}
            for i in range(n) for w, v in (("pre", pre[i]), ("post", post[i]))]
    sc = pd.DataFrame(rows)
    got = prepost.mixed(sc, sc[["respondent_id", "wave", "group", "site"]], WAVES)
    assert (got["method"] == prepost.METHOD_COLLAPSED).all()
    x = np.column_stack([np.ones(2 * n), sc.wave.eq("post"), sc.group.eq("pendatang"),
                         sc.wave.eq("post") & sc.group.eq("pendatang")]).astype(float)
    ols = sm.OLS(sc.score.to_numpy(), x).fit(cov_type="cluster",
                                             cov_kwds={"groups": pd.factorize(sc.respondent_id)[0]})
    fixed = got.iloc[:4]
    assert fixed["estimate"].to_numpy() == pytest.approx(ols.params, abs=1e-10)
    assert fixed["se"].to_numpy() == pytest.approx(ols.bse, abs=1e-10)
    assert fixed["p_val"].to_numpy() == pytest.approx(ols.pvalues, abs=1e-10)
    assert fixed[["ci_low", "ci_high"]].to_numpy() == pytest.approx(ols.conf_int(), abs=1e-10)
    assert (fixed["estimate"].abs() > 1e-3).all()  # not the silent zeros of statsmodels#10239


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_planted_effects_are_recovered(seed):
    rng = np.random.default_rng(seed)
    n, effect, extra = 60, 0.4, 0.3  # pendatang gain 0.4 + 0.3
    group = np.where(np.arange(n) % 2, "pendatang", "lokal")
    person = rng.normal(3, 0.6, n)
    rows = []
    for i in range(n):
        for w, gain in (("pre", 0.0), ("post", effect + extra * (group[i] == "pendatang"))):
            rows.append({"respondent_id": f"p{i}", "wave": w, "group": group[i], "site": "s",
                         "dimension": "trust", "score": person[i] + gain + rng.normal(0, 0.3)})
    sc = pd.DataFrame(rows)
    resp = sc[["respondent_id", "wave", "group", "site"]]
    pp = prepost.paired(sc, WAVES).set_index("group")
    for grp, truth in (("lokal", effect), ("pendatang", effect + extra)):
        row = pp.loc[grp]
        assert row["diff"] > 0 and row.diff_ci_low < truth < row.diff_ci_high
        true_dz = truth / (0.3 * np.sqrt(2))
        assert row.d_z_ci_low < true_dz < row.d_z_ci_high
        assert row.rank_biserial > 0
    mm = prepost.mixed(sc, resp, WAVES).set_index("term")
    inter = mm.loc["wave[post]:group[pendatang]"]
    assert inter.ci_low < extra < inter.ci_high and inter.estimate > 0
    assert mm.loc["wave[post]"].ci_low < effect < mm.loc["wave[post]"].ci_high


def test_dose_response_matches_R(data):
    r, sc, _ = data
    got = prepost.dose_response(sc, r, WAVES)
    assert list(got.columns[:10]) == ["dimension", "kind", "exposure", "n", "slope", "se", "ci_low", "ci_high",
                                      "p_val", "r"]
    got = got.set_index(["dimension", "exposure"])
    for key, ref in R_DOSE.items():
        row = got.loc[key]
        assert row["n"] == ref["n"]
        for ours, theirs in [("slope", "slope"), ("se", "se"), ("p_val", "p"), ("r", "r")]:
            assert row[ours] == pytest.approx(ref[theirs], abs=STAT)
        assert [row.ci_low, row.ci_high] == pytest.approx(ref["ci"], abs=STAT)
    # a missing exposure column gives no rows for it, never a crash
    less = prepost.dose_response(sc, r.drop(columns=["trainings_n"]), WAVES)
    assert set(less["exposure"]) == {"forum_meetings"}
    assert prepost.dose_response(sc, r.drop(columns=prepost.EXPOSURES), WAVES).empty


def test_collective_matches_R(data):
    r, _, _ = data
    got = prepost.collective(r, WAVES).set_index(["claim", "wave"])
    for key, ref in R_COLLECTIVE.items():
        row = got.loc[key]
        assert row["n"] == ref["n"]
        assert row["estimate"] == pytest.approx(ref["estimate"], abs=STAT)
        assert [row.ci_low, row.ci_high] == pytest.approx(ref["ci"], abs=CI)
        assert row["p_val"] == pytest.approx(ref["p"], abs=STAT)
        assert row["note"] == "association" and row["n_exposed"] + row["n_unexposed"] == row["n"]
    skipped = prepost.collective(r.drop(columns=["revenue", "collective_brand"]), WAVES)
    assert len(skipped) == 2 and (skipped["note"] == "skipped_missing").all()


def test_run_adds_network_dimensions(data, run_out):
    r, sc, sm_ = data
    nodes = _nodes(r)
    out = run_out
    assert set(out) == {"prepost", "mixed_models", "dose_response", "collective", "descriptives"}
    pp = out["prepost"]
    net = pp[pp.kind == "network"]
    assert set(net.dimension) == {"network_degree", "network_bridging", "network_ei"}
    assert set(pp.kind) == {"scale", "network"} and (pp.loc[pp.kind == "scale", "dimension"].isin(sc.dimension)).all()
    assert net["n_gain"].isna().all()
    for name in ("mixed_models", "dose_response"):  # every table mixing the two says which is which
        t = out[name]
        assert list(t.columns[:2]) == ["dimension", "kind"]
        assert dict(zip(t.dimension, t.kind)) == dict(zip(pp.dimension, pp.kind))
    ns = prepost.network_scores(nodes, r)
    assert len(ns) == 3 * len(r)  # only tie_type "any"
    deg = ns[ns.dimension == "network_degree"].set_index(["respondent_id", "wave"])["score"]
    anyrows = nodes[nodes.tie_type == "any"].set_index(["respondent_id", "wave"])["degree"]
    assert deg.sort_index().to_numpy() == pytest.approx(anyrows.sort_index().to_numpy())
    # the Holm family now includes the network rows
    part = pp[(pp.group == "all")]
    assert part["p_holm"].to_numpy() == pytest.approx(
        multipletests(part["p_val"], method="holm")[1], nan_ok=True)


def test_dz_ci_is_finite_where_scipy_nct_cdf_returns_nan():
    # scipy's nct.cdf returns NaN far in the tails; the demo study hit that while bracketing the root.
    from pipeline.analysis.prepost import dz_ci

    for t in np.linspace(-12, 12, 49):
        for n in (2, 3, 5, 12, 47, 130, 400):
            lo, hi = dz_ci(float(t), n)
            assert np.isfinite(lo) and np.isfinite(hi) and lo < t / np.sqrt(n) < hi


def test_holm_counts_a_dimension_and_its_only_subscale_once():
    """A dimension whose only subscale is itself gives two rows with identical scores: one test.
    R: p.adjust(c(p_trust, p_norms), "holm") — the duplicate gets the same adjusted p."""
    rng = np.random.default_rng(7)
    pre = rng.normal(3, 0.6, 40)
    post = pre + rng.normal(0.15, 0.4, 40)
    pre2 = rng.normal(3, 0.6, 40)
    post2 = pre2 + rng.normal(0.05, 0.4, 40)
    two = pd.concat([_scores(pre, post, "trust"), _scores(pre2, post2, "norms")])
    both = prepost.paired(two, ["pre", "post"]).set_index(["dimension", "group"])
    dup = pd.concat([two, _scores(pre, post, "trust_only")])
    three = prepost.paired(dup, ["pre", "post"]).set_index(["dimension", "group"])
    p = both.loc[[("trust", "lokal"), ("norms", "lokal")], "p_val"].to_numpy()
    want = multipletests(p, method="holm")[1]
    assert three.loc[("trust", "lokal"), "p_holm"] == pytest.approx(want[0])
    assert three.loc[("trust_only", "lokal"), "p_holm"] == pytest.approx(want[0])
    assert three.loc[("norms", "lokal"), "p_holm"] == pytest.approx(want[1])


def test_holm_is_r_p_adjust_and_statsmodels_bit_for_bit():
    # R: p <- c(0.012, 0.2, 0.0031, 0.04, 0.049, 0.5, 0.0031, 0.9)
    #    print(p.adjust(p, "holm"), digits = 17)   (non-monotone raw products, a tie, a cap at 1)
    p = [0.012, 0.2, 0.0031, 0.04, 0.049, 0.5, 0.0031, 0.9]
    r = [0.072000000000000008, 0.600000000000000089, 0.024799999999999999, 0.200000000000000011,
         0.200000000000000011, 1.0, 0.024799999999999999, 1.0]
    np.testing.assert_allclose(prepost.holm(p), r, rtol=1e-15)
    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 14, 40):
        q = rng.random(n) ** 3
        assert np.array_equal(prepost.holm(q), multipletests(q, method="holm")[1])
    assert prepost.holm([]).shape == (0,)


@pytest.mark.parametrize("dim", ["trust", "trust_outgroup"])
def test_mixed_change_terms_in_dz_units(run_out, dim):
    """The change terms of the mixed model in SD units of the paired differences: lme4's estimate
    (R_LMER: ``fixef(lmer(score ~ wave * group + (1 | respondent)))``) over R's ``sd(post - pre)``
    (R_PAIRED), so the study's smallest meaningful change (in d_z) applies to both."""
    mm = run_out["mixed_models"]
    part = mm[mm["dimension"] == dim].set_index("term")
    sd = R_PAIRED[(dim, "all")]["sd_diff"]
    assert part.loc["wave[post]", "d_z"] == pytest.approx(R_LMER[dim]["est"][1] / sd, abs=1e-5)
    assert part.loc["wave[post]:group[pendatang]", "d_z"] == pytest.approx(R_LMER[dim]["est"][3] / sd, abs=1e-5)
    assert part.loc[["intercept", "group[pendatang]", "var_residual"], "d_z"].isna().all()


def test_descriptives_are_everyones_scores_per_wave_and_group(data, run_out):
    """n, mean and SD of every score in a wave (people seen once included), against pandas' own
    groupby (R: ``aggregate(score ~ wave + group, FUN = mean)``, ``sd``)."""
    r, sc, _ = data
    d = run_out["descriptives"]
    assert list(d.columns) == ["dimension", "kind", "wave", "group", "n", "mean", "sd"]
    got = d[(d["dimension"] == "trust") & (d["group"] != "all")].set_index(["wave", "group"])
    ref = sc[sc["dimension"] == "trust"].dropna(subset=["score"]).groupby(["wave", "group"])["score"]
    for key, row in got.iterrows():
        assert row["n"] == ref.size()[key] and row["mean"] == pytest.approx(ref.mean()[key], abs=1e-12)
        assert row["sd"] == pytest.approx(ref.std()[key], abs=1e-12)
    allrow = d[(d["dimension"] == "trust") & (d["group"] == "all") & (d["wave"] == "pre")].iloc[0]
    pre = sc[(sc["dimension"] == "trust") & (sc["wave"] == "pre")]["score"].dropna()
    assert allrow["n"] == len(pre) > R_PAIRED[("trust", "all")]["n"]  # everyone, not only the pairs


# ---- the reference group: the study's first level (or group.reference), never the alphabetical first ----
# sc$group <- factor(sc$group, levels = c("pendatang", "lokal"))   # pendatang the reference
# m <- lmer(score ~ wave * group + (1 | respondent_id), data = sc[sc$dimension == d, ], REML = TRUE)
# fixef(m); sqrt(diag(as.matrix(vcov(m))))   (lme4 1.1.31, R 4.2.2; tests/r/data/scores.csv)
R_LMER_REF_PENDATANG = {
    "trust": dict(est=[3.25892857142861, 0.407885650421389, -0.302366890288877, -0.195045507857691],
                  se=[0.158449004687369, 0.110831547247143, 0.194485766484148, 0.135730742377978]),
    "norms": dict(est=[3.14999999999996, 0.339125090437571, -0.0952987800122039, -0.122559200599538],
                  se=[0.21508947052734, 0.133825884213972, 0.263899412471548, 0.163893129807498]),
}


def test_mixed_reference_group_is_the_first_of_the_levels_given(data):
    r, sc, _ = data
    got = prepost.mixed(sc, r, WAVES, levels=["pendatang", "lokal"])
    for dim, ref in R_LMER_REF_PENDATANG.items():
        fixed = got[got.dimension == dim].iloc[:4]
        assert fixed["term"].tolist() == ["intercept", "wave[post]", "group[lokal]", "wave[post]:group[lokal]"]
        assert fixed["estimate"].to_numpy() == pytest.approx(ref["est"], abs=STAT)
        assert fixed["se"].to_numpy() == pytest.approx(ref["se"], abs=STAT)


def test_run_orders_groups_as_the_study_lists_them_and_models_its_reference(data):
    r, sc, sm_ = data
    out = prepost.run(sc, r, WAVES, levels=["pendatang", "lokal"], scale_map=sm_)
    trust = out["prepost"][out["prepost"].dimension == "trust"]
    assert trust["group"].tolist() == ["all", "pendatang", "lokal"]  # not alphabetical
    terms = out["mixed_models"].loc[out["mixed_models"].dimension == "trust", "term"].tolist()
    assert "group[lokal]" in terms and "group[pendatang]" not in terms  # the first level is the reference
    # group.reference: the tables keep the study's order, the models compare with the reference
    out = prepost.run(sc, r, WAVES, levels=["lokal", "pendatang"], reference="pendatang", scale_map=sm_)
    assert out["prepost"].loc[out["prepost"].dimension == "trust", "group"].tolist() == ["all", "lokal", "pendatang"]
    fixed = out["mixed_models"][out["mixed_models"].dimension == "trust"].iloc[:4]
    assert fixed["term"].iloc[2] == "group[lokal]"
    assert fixed["estimate"].to_numpy() == pytest.approx(R_LMER_REF_PENDATANG["trust"]["est"], abs=STAT)
