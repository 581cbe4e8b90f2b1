"""The village simulator: UMKM owners, their trust and norms, their business ties, over waves.

A seeded model of a village like Desa Kaloran Brimob, shared by the demo study
(:mod:`pipeline.sources.demo`, which turns it into KoboToolbox submissions) and by power planning
(:mod:`pipeline.analysis.plan`, which simulates the next program many times). Every number that
steers it is a module constant, copied into the demo's ``demo_truth.json``.

======================================  ===========================================================
module                                  what
======================================  ===========================================================
:mod:`~pipeline.simulation.constants`   every number that steers the model (copied into the truth file)
:mod:`~pipeline.simulation.seeds`       independent, reproducible random streams per component
:mod:`~pipeline.simulation.people`      the population: origin, sex, age, sector, memberships, RT;
                                        who takes part in the program
:mod:`~pipeline.simulation.traits`      latent trust and norms traits per subscale, Likert answers
                                        through item thresholds, the program's effect, scale scores
:mod:`~pipeline.simulation.networks`    homophilous tie propensities, ties kept and made between waves,
                                        the program's added cross-group ties
:mod:`~pipeline.simulation.sites`       the demo's comparison villages: names, folders, seeds
======================================  ===========================================================

The village across waves (roster flow, answers, names, KoboToolbox submissions) is the demo's
(:mod:`pipeline.sources.demo`). Pure numpy; nothing here reads the instrument's field paths or writes a file.
"""
