"""Every word the report shows, in Bahasa Indonesia (``id``, the default) and English (``en``).

UI strings live in :data:`STRINGS`; numbers are formatted by :func:`num` (decimal comma and
thousands dot in Indonesian, period and comma in English). The generated sentences of the summary
are built by the ``sentence_*`` functions from one row of a results table, so the numbers in the
text are the numbers in the tables (``tests/test_report.py`` parses them back).

Hedging (one rule for every finding, see :func:`verdict`):

* ``sig``      -- Holm-adjusted p < alpha **and** the 95% CI of the change excludes 0:
  "meningkat/menurun signifikan";
* ``holm``     -- the CI excludes 0 but the Holm-adjusted p is not below alpha: "naik/turun, tetapi
  belum signifikan setelah koreksi Holm";
* ``unsure``   -- the CI includes 0: "cenderung naik/turun, tetapi belum dapat dipastikan";
* ``flat``     -- the change is 0 or, with a CI including 0, rounds to 0,00;
  ``untestable`` -- too few pairs for a test.
"""

from __future__ import annotations

import math
import re
from typing import Any

LANGUAGES = ("id", "en")
MINUS = "\u2212"

# ---------------------------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------------------------


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def num(x: Any, lang: str, digits: int = 2, *, sign: bool = False) -> str:
    """Format a number for the report language; NaN → an en dash.

    >>> num(0.6, "id"), num(-1234.5, "en", 1), num(12345, "id", 0)
    ('0,60', '−1,234.5', '12.345')
    """
    if _missing(x):
        return "–"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    s = f"{abs(x):,.{digits}f}"
    if lang == "id":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    if round(x, digits) == 0:
        x = 0.0
    prefix = MINUS if x < 0 else ("+" if sign and x > 0 else "")
    return prefix + s


def integer(x: Any, lang: str) -> str:
    """A whole number with the language's thousands separator (``3.707`` / ``3,707``)."""
    return num(x, lang, 0)


_MONTHS = {"id": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                  "Oktober", "November", "Desember"],
           "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"]}


def when(text: Any, lang: str) -> str:
    """An ISO time (``2026-11-23T10:05:00Z``) as people write it, in UTC: "23 November 2026, 10.05 UTC"
    (Indonesian writes the hour with a dot), "23 November 2026, 10:05 UTC"; other text unchanged.

    >>> when("2026-11-23T10:05:09+00:00", "id"), when("2026-11-23T10:05:09Z", "en")
    ('23 November 2026, 10.05 UTC', '23 November 2026, 10:05 UTC')
    """
    from datetime import datetime, timezone

    try:
        t = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    t = t.astimezone(timezone.utc) if t.tzinfo else t
    sep = "." if lang == "id" else ":"
    return f"{t.day} {_MONTHS[lang][t.month - 1]} {t.year}, {t.hour:02d}{sep}{t.minute:02d} UTC"


def pval(p: Any, lang: str) -> str:
    """p value with three decimals; below 0.001 as "< 0,001"."""
    if _missing(p):
        return "–"
    if float(p) < 0.001:
        return "< " + num(0.001, lang, 3)
    return num(p, lang, 3)


def peq(p: Any, lang: str) -> str:
    """"= 0,023" or "< 0,001", to follow a p label in a sentence."""
    text = pval(p, lang)
    return text if text.startswith("<") else "= " + text


def pct(x: Any, lang: str, digits: int = 1) -> str:
    """A share (0–1) as a percentage: 0.254 → "25,4%"."""
    if _missing(x):
        return "–"
    return num(100 * float(x), lang, digits) + "%"


def parse_num(text: str, lang: str) -> float:
    """Inverse of :func:`num` (used by the tests).

    >>> parse_num("−1.234,50", "id"), parse_num("0.60", "en")
    (-1234.5, 0.6)
    """
    t = text.strip().replace(MINUS, "-").replace("+", "").replace("%", "")
    t = t.replace(".", "").replace(",", ".") if lang == "id" else t.replace(",", "")
    return float(t)


# ---------------------------------------------------------------------------------------------
# fixed strings
# ---------------------------------------------------------------------------------------------

STRINGS: dict[str, dict[str, str]] = {
    "id": {
        "lang_attr": "id",
        "report": "Laporan evaluasi modal sosial",
        "site": "Lokasi",
        "source": "Sumber data",
        "waves": "Putaran survei",
        "contents": "Daftar isi",
        "not_available": "Bagian ini belum tersedia: {what}.",
        "missing_file": "berkas {file} belum ada (jalankan \u201c{cmd}\u201d)",
        "sec_summary": "Ringkasan",
        "sec_data": "Data",
        "sec_trust": "Kepercayaan dan norma",
        "sec_network": "Jejaring",
        "sec_collective": "Aksi kolektif dan hasil usaha",
        "sec_designs": "Desain evaluasi: invariansi, data hilang, desa pembanding",
        "plan_head": "Kekuatan uji untuk program berikutnya",
        "plan_none": "Belum dihitung: jalankan `make plan` (pengaturan di kunci `plan` berkas studi).",
        "plan_intro": ("Simulasi desain program berikutnya (kunci `plan`): {vp} desa program, {vc} desa pembanding, {part} "
                       "peserta, putus {att}, tingkat respons {rr}; efek {es} SD pada skala dan tambahan peluang {et} untuk "
                       "relasi baru lintas kelompok antarpeserta; {sims} simulasi per ukuran, α = {alpha}. Kekuatan = bagian "
                       "simulasi yang ujinya menemukan efek. Desain ini bukan data studi ini; tuliskan ke proposal berikutnya."),
        "plan_sent_ok": "{test}: kekuatan ≥ 80% mulai dari {n} responden per desa.",
        "plan_sent_short": "{test}: kekuatan belum mencapai 80% sampai {n} responden per desa (tertinggi {pmax}).",
        "plan_sent_never": ("{test}: dengan desa sebanyak ini inferensi randomisasi tidak dapat mencapai p < α, jadi kekuatannya "
                            "0 berapa pun respondennya; tambahkan desa."),
        "plan_t_paired_scale": "Uji t berpasangan, skala (desa program)",
        "plan_t_did_scale": "Selisih-dari-selisih, skala (randomisasi atas desa)",
        "plan_t_paired_ei": "Perubahan E-I per orang (desa program)",
        "plan_t_did_ei": "ΔE-I desa, program vs pembanding (randomisasi atas desa)",
        "t_plan": "Kekuatan uji menurut jumlah responden per desa",
        "plan_c_test": "Uji", "plan_c_n": "Responden per desa", "plan_c_power": "Kekuatan", "plan_c_se": "SE Monte Carlo",
        "plan_fig": "Kurva kekuatan uji: garis putus-putus = 80%.",
        "cov_head": "Data jaringan yang hilang",
        "cov_none": "Tidak ada data jaringan.",
        "cov_intro": ("Ukuran jaringan seluruh desa hanya memakai relasi antarresponden; orang yang dinominasikan tetapi tidak "
                      "menjawab hilang beserta relasinya. Cakupan = responden / (responden + orang yang dinominasikan tetapi "
                      "tidak menjawab), batas atas tingkat respons daftar nama. Kepekaan E-I: batas bawah dan atas menghitung "
                      "semua nominasi, dengan orang yang kelompoknya tidak diketahui dianggap sekelompok (bawah) atau beda "
                      "kelompok (atas); rekonstruksi menganggap orang yang tidak menjawab membalas setiap nominasi "
                      "kepadanya (Huisman 2009)."),
        "cov_ok": ("{site}, {wave}: cakupan {cov} ({n} orang dinominasikan tetapi tidak menjawab, {ties} nominasi kepada mereka); "
                   "E-I teramati {ei}, rentang dengan semua nominasi [{lo}; {hi}], rekonstruksi {rec}."),
        "cov_warn": ("Peringatan — {site}, {wave}: cakupan hanya {cov} (di bawah {thr}); {n} orang dinominasikan tetapi "
                     "tidak menjawab. E-I teramati {ei}, rentang [{lo}; {hi}], rekonstruksi {rec}: ukuran jaringan desa ini "
                     "bisa bias, baca bersama rentangnya."),
        "t_coverage": "Cakupan daftar nama dan kepekaan ukuran jaringan terhadap responden yang tidak menjawab",
        "cov_table_note": "⚠ = cakupan di bawah {thr}. E-I dan asortativitas teramati = tabel jaringan (responden saja).",
        "cov_c_site": "Desa", "cov_c_cov": "Cakupan", "cov_c_non": "Tidak menjawab", "cov_c_to": "Nominasi kepada mereka",
        "cov_c_ei": "E-I teramati", "cov_c_lo": "E-I bawah", "cov_c_hi": "E-I atas", "cov_c_rec": "E-I rekonstruksi",
        "cov_c_r": "Asortativitas teramati", "cov_c_rrec": "Asortativitas rekonstruksi", "cov_c_warn": "Peringatan",
        "inv_head": "Invariansi pengukuran",
        "inv_none": "Tidak ada skala untuk diuji invariansinya.",
        "inv_intro": ("Membandingkan rata-rata dua kelompok (lokal vs pendatang) atau dua putaran mengandaikan butir-butirnya "
                      "bermakna sama bagi keduanya. Per dimensi dipasang analisis faktor konfirmatori multikelompok (satu "
                      "faktor per subskala, maximum likelihood) pada tiga tingkat: konfigural (pola sama), metrik (muatan "
                      "sama), skalar (muatan dan intersep sama). Satu tingkat dianggap berlaku bila, dibanding tingkat "
                      "sebelumnya, ΔCFI ≥ −0,010 dan ΔRMSEA ≤ 0,015 (Chen 2007); model konfigural perlu CFI ≥ 0,90. "
                      "Perbandingan antarputaran memperlakukan kedua putaran sebagai sampel terpisah (orang yang sama "
                      "menjawab dua kali), sebuah pendekatan."),
        "inv_v_scalar": ("{dim}, {a} vs {b}: invariansi skalar berlaku (n = {n}; CFI konfigural {cfi}), jadi perbandingan "
                         "rata-rata skor antara {a} dan {b} didukung."),
        "inv_v_metric": ("{dim}, {a} vs {b}: invariansi metrik berlaku tetapi skalar tidak (n = {n}): perbandingan "
                         "rata-rata skor skala ini antara {a} dan {b} tidak didukung data; hubungan (korelasi, regresi) "
                         "masih dapat dibandingkan."),
        "inv_v_configural": ("{dim}, {a} vs {b}: hanya invariansi konfigural (n = {n}): muatan butir berbeda antar kelompok, "
                             "jadi perbandingan rata-rata skor skala ini tidak didukung."),
        "inv_v_configural_poor": ("{dim}, {a} vs {b}: model faktornya sendiri kurang cocok (CFI konfigural {cfi} < 0,90; "
                                  "n = {n}), jadi invariansi tidak dapat dinilai dan perbandingan rata-rata skala ini "
                                  "belum didukung."),
        "inv_v_not_estimable": "{dim}, {a} vs {b}: tidak dapat diperkirakan ({note}).",
        "inv_heywood": ("Sebagian model memperkirakan varians residual negatif (kasus Heywood), biasanya karena sampel kecil: "
                        "baca indeks kecocokannya dengan hati-hati."),
        "t_invariance": "Invariansi pengukuran: konfigural, metrik, skalar",
        "inv_table_note": ("χ², CFI dan RMSEA seperti lavaan (estimator ML, penghapusan listwise); ΔCFI dan ΔRMSEA terhadap "
                           "tingkat sebelumnya."),
        "inv_c_groups": "Dibandingkan",
        "inv_c_level": "Tingkat",
        "inv_c_holds": "Berlaku",
        "inv_l_configural": "konfigural", "inv_l_metric": "metrik", "inv_l_scalar": "skalar",
        "did_head": "Selisih-dari-selisih (desa program vs desa pembanding)",
        "did_none": ("Studi ini tidak memiliki desa pembanding, jadi tidak ada perbandingan selisih-dari-selisih; "
                     "tandai desa dengan kunci `arms` di berkas studi (README)."),
        "did_intro": ("{g} desa: {gp} desa program dan {gc} desa pembanding. Perubahan dari putaran pertama ke "
                      "putaran terakhir dibandingkan antara kedua kelompok desa. Model campuran (intersep acak desa "
                      "dan responden di dalam desa, REML) memberi taksiran dan galat baku model, tetapi galat baku itu "
                      "mengabaikan bahwa desa berbeda dalam perubahannya; karena desanya sedikit, simpulan memakai "
                      "inferensi randomisasi atas desa: taksiran dihitung ulang untuk {k} cara membagi label program "
                      "ke desa (seed {seed}); p terkecil yang bisa dicapai = {pmin}."),
        "did_too_few": ("Dengan {g} desa, inferensi randomisasi tidak dapat mencapai p < {alpha} (p terkecil = {pmin}): "
                        "selisih-dari-selisih di bawah ini hanya deskriptif, bukan bukti kausal. Tambahkan desa pembanding "
                        "(atau desa program) untuk dapat menguji."),
        "did_sent_descr": ("{what}: selisih-dari-selisih {est} (model campuran {mest}, IK 95% model [{mlo}; {mhi}]); "
                           "dengan desa sebanyak ini belum dapat diuji, jadi belum ada klaim kausal."),
        "did_sent_sig_up": ("{what}: di desa program naik lebih banyak daripada di desa pembanding, selisih-dari-selisih "
                            "{est} (IK 95% randomisasi [{lo}; {hi}], {p})."),
        "did_sent_sig_down": ("{what}: di desa program turun dibanding desa pembanding, selisih-dari-selisih {est} "
                              "(IK 95% randomisasi [{lo}; {hi}], {p})."),
        "did_sent_unsure": ("{what}: selisih-dari-selisih {est} (IK 95% randomisasi [{lo}; {hi}], {p}); belum dapat "
                            "dibedakan dari nol."),
        "did_node_degree": "Jumlah relasi (degree) per orang",
        "did_node_bridging": "Relasi lintas kelompok (bridging) per orang",
        "did_node_ei": "Indeks E-I per orang",
        "did_v_ei": "Indeks E-I desa",
        "did_v_cross_share": "Bagian relasi lintas kelompok",
        "did_v_assortativity": "Asortativitas",
        "did_c_tie": "Jenis relasi",
        "did_c_outcome": "Ukuran",
        "did_c_villages": "Desa",
        "did_m_did_mixed": "DiD, model campuran (GB model)",
        "did_m_did_ri": "DiD, inferensi randomisasi atas desa",
        "did_m_ancova_mixed": "ANCOVA, model campuran (GB model)",
        "did_m_ancova_ri": "ANCOVA, inferensi randomisasi atas desa",
        "did_m_village_ri": "tingkat desa, inferensi randomisasi",
        "t_did": "Selisih-dari-selisih dan ANCOVA: desa program vs desa pembanding",
        "did_table_note": ("DiD = interaksi putaran × kelompok desa (putaran pertama vs terakhir). ANCOVA = skor putaran "
                           "terakhir ~ program + skor putaran pertama (responden yang ikut kedua putaran). IK randomisasi "
                           "= himpunan efek yang tidak ditolak uji randomisasi; ∞ berarti desanya terlalu sedikit untuk "
                           "membatasinya."),
        "t_did_village": "Ukuran jaringan tingkat desa: perubahan desa program − perubahan desa pembanding",
        "did_village_note": "Satu nilai per desa × putaran; inferensi randomisasi atas desa.",
        "bal_intro": "Keseimbangan awal ({wave}): desa program dan desa pembanding dibandingkan sebelum program.",
        "bal_ok": "Tidak ada variabel dengan |SMD| > 0,25.",
        "bal_bad": ("{n} variabel berbeda cukup besar (|SMD| > 0,25): desa pembanding tidak sebanding pada variabel itu, "
                    "jadi ANCOVA dan penyesuaian kovariat menjadi penting."),
        "t_balance": "Keseimbangan awal: desa program vs desa pembanding",
        "bal_c_var": "Variabel",
        "bal_c_prog": "Rata-rata program",
        "bal_c_comp": "Rata-rata pembanding",
        "bal_c_p": "p (randomisasi)",
        "bal_share": "Bagian {g}",
        "bal_age": "Umur", "bal_years_in_village": "Lama tinggal di desa (tahun)", "bal_business_age": "Umur usaha (tahun)",
        "bal_employees": "Jumlah karyawan", "bal_revenue": "Omzet", "bal_membership_n": "Jumlah keanggotaan",
        "sec_methods": "Metode dan keterbatasan",
        "sec_colophon": "Kolofon",
        "figure": "Gambar",
        "table": "Tabel",
        "docx_toc": "Daftar Isi",
        "docx_tables": "Daftar Tabel",
        "docx_figures": "Daftar Gambar",
        "docx_fields": "Klik kanan lalu pilih Update Field (atau tekan F9) untuk memperbarui daftar ini.",
        "docx_appendix": "Lampiran: tabel panjang",
        "docx_in_appendix": "{table} {number} ({title}, {rows} baris) ada lengkap di Lampiran.",
        "docx_continued": "lanjutan, kolom {first}–{last} dari {total}",
        "docx_page": "Halaman",
        "all": "Semua",
        "group_all_phrase": "seluruh responden",
        "group_phrase": "kelompok {label}",
        "wave": "Putaran",
        "group": "Kelompok",
        "dimension": "Dimensi",
        "item": "Butir",
        "tie_type": "Jenis hubungan",
        "yes": "Ya",
        "no": "Tidak",
        "scale_range": "skala {lo}–{hi}",
        # summary
        "summary_intro": ("Laporan ini merangkum survei modal sosial pelaku UMKM di {site}: {waves}. "
                          "Angka-angka di bawah berasal langsung dari tabel pada bagian berikutnya."),
        "summary_wave_n": "{wave} {n} responden",
        "summary_pairs": ("{n} responden mengisi survei pada kedua putaran ({pre}; {post}); perbandingan "
                          "sebelum–sesudah memakai pasangan jawaban mereka."),
        "summary_trust_head": "Kepercayaan dan norma bersama",
        "summary_gap_head": "Apakah kesenjangan antara kelompok menyempit?",
        "summary_network_head": "Jejaring antarpelaku UMKM",
        "summary_caveat": ("Catatan: survei ini membandingkan orang yang sama sebelum dan sesudah program tanpa desa "
                           "pembanding. Perubahan yang terlihat belum tentu disebabkan oleh program (lihat "
                           "Metode dan keterbatasan)."),
        "summary_howto": ("Cara membaca: \u201csignifikan\u201d berarti perubahan itu kecil kemungkinannya terjadi "
                          "hanya karena kebetulan (p setelah koreksi Holm < {alpha} dan interval kepercayaan "
                          "(IK) 95% tidak memuat nol). \u201cBelum dapat dipastikan\u201d berarti datanya masih "
                          "sejalan dengan tidak ada perubahan. d_z mengukur besar perubahan dibanding "
                          "keragamannya: sekitar 0,2 kecil, 0,5 sedang, 0,8 besar."),
        # verdicts (scales)
        "v_sig_up": "meningkat signifikan",
        "v_sig_down": "menurun signifikan",
        "v_holm_up": "naik, tetapi belum signifikan setelah koreksi Holm untuk banyak uji",
        "v_holm_down": "turun, tetapi belum signifikan setelah koreksi Holm untuk banyak uji",
        "v_unsure_up": "cenderung naik, tetapi belum dapat dipastikan",
        "v_unsure_down": "cenderung turun, tetapi belum dapat dipastikan",
        "v_flat": "praktis tidak berubah",
        "v_untestable": "belum dapat diuji (terlalu sedikit pasangan)",
        "up": "naik",
        "down": "turun",
        "points": "poin",
        "pairs": "pasangan",
        "ci95": "IK 95%",
        "to": "sampai",
        "p_holm_label": "p Holm",
        "sentence_scale": ("{dim} pada {grp} {verdict}: {dir} {absdiff} {points}, dari {pre} menjadi {post} "
                           "pada {scale} ({ci} {lo} {to} {hi}; d_z = {dz}; {plabel} {p}; n = {n} {pairs})."),
        "sentence_scale_untestable": "{dim} pada {grp} {verdict} (n = {n} {pairs}).",
        "gap_sentence": ("{dim}: pada awal ({pre}), skor {g2} {dir0} {abs0} poin dibanding {g1}. Perubahan pada {g2} "
                         "{cmp} {absint} poin dibanding perubahan pada {g1} ({ci} {lo} {to} {hi}; p {p}; "
                         "{method}). {verdict}"),
        "gap_higher": "lebih tinggi",
        "gap_lower": "lebih rendah",
        "gap_more": "lebih besar",
        "gap_less": "lebih kecil",
        "gap_closed_sig": "Artinya, kesenjangan antara kedua kelompok menyempit secara signifikan.",
        "gap_widened_sig": "Artinya, kesenjangan antara kedua kelompok melebar secara signifikan.",
        "gap_closed_unsure": "Kesenjangan tampak menyempit, tetapi belum dapat dipastikan.",
        "gap_widened_unsure": "Kesenjangan tampak melebar, tetapi belum dapat dipastikan.",
        "gap_flat": "Kedua kelompok berubah kurang lebih sama besar.",
        "sentence_ei": ("{wave} ({tie}): {ext} dari {total} hubungan ({share}) menghubungkan lokal dan pendatang. "
                        "Indeks E-I = {ei}, sedangkan jika hubungan terjalin secara acak nilainya diharapkan "
                        "{exp} (E-I terskala = {resc}; p permutasi {p}). {verdict}"),
        "ei_more_within_sig": "Hubungan lebih banyak terjalin di dalam kelompok sendiri daripada yang diharapkan secara acak.",
        "ei_more_between_sig": "Hubungan lintas kelompok lebih banyak daripada yang diharapkan secara acak.",
        "ei_unsure": "Selisih dari pola acak ini belum dapat dipastikan.",
        "sentence_change": ("{pre} → {post} ({tie}): {new_b} hubungan lintas kelompok baru terbentuk dan "
                            "{drop_b} terputus (di dalam kelompok: {new_w} baru, {drop_w} terputus). "
                            "Di antara {common} responden yang ikut kedua putaran, E-I {dir} {absd} (dari {ei0} menjadi {ei1}; p {p}). {verdict}"),
        "change_sig_up": "Jejaring menjadi lebih terbuka antarkelompok secara signifikan.",
        "change_sig_down": "Jejaring menjadi lebih tertutup di dalam kelompok secara signifikan.",
        "change_unsure_up": "Jejaring cenderung lebih terbuka antarkelompok, tetapi belum dapat dipastikan.",
        "change_unsure_down": "Jejaring cenderung lebih tertutup di dalam kelompok, tetapi belum dapat dipastikan.",
        "change_flat": "Keterbukaan antarkelompok tidak berubah.",
        # data section
        "data_intro": ("Jumlah responden per putaran dan kelompok. \u201cBertahan\u201d = juga mengisi pada putaran "
                       "sebelumnya; \u201ckeluar\u201d = mengisi pada putaran sebelumnya tetapi tidak pada putaran ini; "
                       "\u201cbaru\u201d = belum mengisi pada putaran sebelumnya."),
        "t_sample": "Responden per putaran dan kelompok",
        "c_n": "n",
        "c_retained": "Bertahan",
        "c_attrition": "Keluar",
        "c_newcomers": "Baru",
        "c_in_all": "Ikut semua putaran",
        "data_attrition": ("{prev} → {cur}: {ret} responden bertahan, {att} keluar ({attp} dari {nprev}) dan {new} baru. "
                           "Hanya yang bertahan masuk uji berpasangan; model campuran memakai semua jawaban."),
        "t_quality": "Masalah kualitas data yang ditemukan dan ditangani",
        "c_issue": "Masalah",
        "c_action": "Tindakan",
        "c_count": "Jumlah",
        "quality_none": "Tidak ada masalah kualitas data yang tercatat.",
        "quality_intro": ("Setiap kiriman diperiksa: unggahan ganda, penolakan persetujuan, nominasi diri sendiri "
                          "dan nominasi orang di luar daftar. Rinciannya ada di berkas quality.csv."),
        "validation_exclude_not_approved": ("Status validasi KoboToolbox: semua kiriman dihitung kecuali yang "
                                            "ditandai Not Approved (status terbaru di server saat diunduh; "
                                            "kiriman yang diedit dibaca dalam versi terbarunya, yang dihapus tidak dipakai)."),
        "validation_approved_only": ("Status validasi KoboToolbox: hanya kiriman yang ditandai Approved yang dihitung "
                                     "(validation: approved_only; status terbaru di server saat diunduh; kiriman yang "
                                     "diedit dibaca dalam versi terbarunya, yang dihapus tidak dipakai)."),
        "t_missing": "Jawaban kosong per dimensi",
        "c_expected": "Jawaban yang diharapkan",
        "c_missing": "Kosong",
        "c_missing_pct": "% kosong",
        "missing_sentence": "Secara keseluruhan {pct} jawaban butir skala dibiarkan kosong ({n} dari {total}).",
        # trust section
        "trust_intro": ("Kepercayaan dan norma diukur dengan butir pernyataan berskala Likert 1–5 (1 = sangat tidak setuju, "
                        "5 = sangat setuju). Skor = rata-rata butir yang dijawab setelah butir negatif dibalik, sehingga "
                        "skor lebih tinggi selalu berarti kepercayaan/norma lebih kuat."),
        "fig_dumbbell": "Rata-rata skor sebelum (lingkaran kosong) dan sesudah (lingkaran penuh) per kelompok, hanya responden berpasangan",
        "fig_dist": "Sebaran skor per putaran dan kelompok (kotak: kuartil; titik: responden)",
        "t_paired_stats": "Paired Samples Statistics (statistik sampel berpasangan)",
        "t_paired_test": "Paired Samples Test (uji sampel berpasangan)",
        "t_effects": "Besar efek, uji Wilcoxon, koreksi Holm, N-gain dan persentase perubahan",
        "c_pair": "Pasangan",
        "c_mean": "Rata-rata (Mean)",
        "c_sd": "Simpangan baku (Std. Deviation)",
        "c_se": "Galat baku rata-rata (Std. Error Mean)",
        "c_mean_diff": "Rata-rata selisih (Mean)",
        "c_ci_low": "IK 95% bawah (Lower)",
        "c_ci_high": "IK 95% atas (Upper)",
        "c_t": "t",
        "c_df": "df",
        "c_sig": "Sig. (2-tailed)",
        "c_lower": "bawah",
        "c_upper": "atas",
        "c_dz": "d_z",
        "c_dz_ci": "IK 95% d_z",
        "c_W": "Wilcoxon V",
        "c_p_w": "p Wilcoxon",
        "c_rb": "r rank-biserial",
        "c_p_holm": "p Holm",
        "c_n_gain": "N-gain",
        "c_pct_change": "% perubahan",
        "c_shapiro": "p Shapiro-Wilk",
        "c_n_pairs": "n pasangan",
        "c_n_unmatched": "tanpa pasangan",
        "paired_note": ("Selisih = sesudah − sebelum, sehingga angka positif berarti naik. Hanya responden yang memiliki skor "
                        "pada kedua putaran yang dipasangkan ({unmatched} orang-dimensi tanpa pasangan tidak dipakai di sini)."),
        "formulas_head": "Rumus",
        "f_dz": "d_z = rata-rata(D) / simpangan baku(D) = t / √n, dengan D = skor sesudah − skor sebelum (bukan d_avg yang dilaporkan pingouin untuk data berpasangan).",
        "f_ngain": "N-gain (Hake) = (rata-rata sesudah − rata-rata sebelum) / (skor maksimum − rata-rata sebelum); skor maksimum = {max}.",
        "f_pct": "% perubahan = (rata-rata sesudah − rata-rata sebelum) / rata-rata sebelum × 100. Penyebutnya rata-rata sebelum (bukan sesudah, seperti di sebagian laporan PKM).",
        "f_holm": "p Holm: p uji t disesuaikan dengan metode Holm atas seluruh keluarga dimensi dalam satu kelompok × pasangan putaran.",
        "f_wilcoxon": "Wilcoxon bertanda (V = jumlah peringkat selisih positif) dilaporkan sebagai uji pembanding yang tidak mengandaikan sebaran normal; r rank-biserial > 0 berarti naik.",
        "t_reliability": "Reliabilitas skala per putaran",
        "c_k": "Jumlah butir",
        "c_alpha": "α Cronbach",
        "c_alpha_ci": "IK 95% α",
        "c_omega": "ω McDonald",
        "c_flag": "Catatan",
        "rel_low": "di bawah 0,70: konsistensi butir rendah, tafsirkan dengan hati-hati",
        "rel_ok": "memadai",
        "rel_heywood": "ω dari solusi Heywood (komunalitas butir ≥ 0,995): jangan ditafsirkan",
        "rel_note": "α dan ω di bawah 0,70 dianggap rendah. Dihitung dari responden yang menjawab semua butir dimensi itu.",
        "t_items": "Persentase setuju per butir (jawaban 4 atau 5)",
        "c_item_text": "Pernyataan",
        "c_reverse": "Butir negatif",
        "c_pct_agree": "% setuju",
        "items_note": ("% setuju dihitung dari jawaban asli (4 = setuju, 5 = sangat setuju). Untuk butir negatif (ditandai), "
                       "setuju berarti kepercayaan/norma lebih lemah; rata-rata sudah dibalik sehingga lebih tinggi = lebih baik."),
        "t_mixed": "Model campuran: skor ~ putaran × kelompok + (1 | responden)",
        "c_term": "Suku",
        "c_estimate": "Estimasi",
        "c_se_short": "SE",
        "c_p": "p",
        "c_method": "Metode",
        "mixed_intro": ("Model campuran memakai semua jawaban, termasuk responden yang hanya mengisi satu putaran. "
                        "Suku interaksi putaran × kelompok menjawab: apakah perubahan pada {g2} berbeda dari perubahan pada {g1}? "
                        "Jika kelompok {g2} semula lebih rendah dan interaksinya positif, kesenjangan antara lokal dan pendatang menyempit."),
        "mixed_fallback": ("Untuk {dims}, varians antarresponden model campuran mendekati nol atau model tidak konvergen, "
                           "sehingga estimasi diulang dengan regresi OLS dan galat baku yang dikelompokkan per responden (cluster-robust)."),
        "term_intercept": "Konstanta ({g1}, {w1})",
        "term_wave": "Putaran: {w} (perubahan pada {g1})",
        "term_group": "Kelompok: {g} (selisih awal terhadap {g1})",
        "term_inter": "Interaksi {w} × {g} (perbedaan perubahan)",
        "term_var_respondent": "Varians antarresponden",
        "term_var_site": "Varians antarlokasi",
        "term_var_residual": "Varians residu",
        "method_mixedlm_reml": "model campuran (REML)",
        "method_ols_collapsed": "OLS + SE cluster (varians antarresponden ≈ 0)",
        "method_ols_nonconv": "OLS + SE cluster (model campuran tidak konvergen)",
        "method_skipped": "dilewati",
        "t_dose": "Hubungan dosis–respons: perubahan skor menurut keikutsertaan program",
        "c_exposure": "Keikutsertaan",
        "c_slope": "Kemiringan",
        "c_r": "r",
        "dose_note": ("Kemiringan = perubahan skor rata-rata untuk setiap tambahan satu pertemuan forum atau satu pelatihan. "
                      "Ini hubungan (asosiasi), bukan bukti sebab-akibat: orang yang lebih aktif bisa saja berbeda sejak awal."),
        "exp_forum_meetings": "Pertemuan forum yang dihadiri",
        "exp_trainings_n": "Jumlah pelatihan yang diikuti",
        # network section
        "net_intro": ("Setiap responden memilih dari daftar pelaku UMKM desa siapa yang menjadi teman berbagi informasi usaha, "
                      "tempat meminta bantuan atau meminjam, dan mitra kolaborasi usaha. Satu pilihan = satu hubungan berarah. "
                      "\u201cSemua jenis hubungan\u201d menggabungkan ketiganya."),
        "fig_sociogram": ("Jejaring {tie} sebelum dan sesudah, dengan posisi titik yang sama pada kedua gambar "
                          "(tata letak dihitung sekali dari gabungan semua putaran, seed {seed}). Warna = kelompok; garis "
                          "tebal berwarna = hubungan lintas kelompok; titik pucat = tidak mengisi pada putaran itu."),
        "fig_sociogram_one": ("Jejaring {tie} pada putaran {wave} (tata letak seed {seed}). Warna = kelompok; garis tebal "
                              "berwarna = hubungan lintas kelompok."),
        "sociogram_subset": ("Studi ini mencakup {n} desa; gambar jejaring menampilkan {k} desa pertama ({names}). Jejaring "
                             "setiap desa ada di exports/network/graphs/ (GraphML, GEXF) dan semua ukurannya di tabel."),
        "fig_mixing": "Matriks pencampuran: jumlah hubungan dari kelompok (baris) ke kelompok (kolom) per putaran, dengan persentase baris",
        "fig_cross_title": "Berapa persen hubungan yang menghubungkan dua kelompok?",
        "fig_cross_share": ("Persentase hubungan yang lintas kelompok (antara lokal dan pendatang) per jenis hubungan "
                            "dan putaran survei. Angkanya dari matriks pencampuran (Tabel jumlah hubungan)."),
        "fig_within_word": "di dalam",
        "fig_group_ties": ("Hubungan di dalam dan antarkelompok per jenis hubungan: lingkaran = kelompok (luasnya menurut "
                           "jumlah responden), angka di dalamnya = hubungan di dalam kelompok; panah = hubungan dari satu "
                           "kelompok ke kelompok lain, makin tebal makin banyak."),
        "t_whole": "Ukuran jejaring keseluruhan per putaran dan jenis hubungan",
        "c_nodes": "Titik",
        "c_ties": "Hubungan",
        "c_density": "Kepadatan",
        "c_reciprocity": "Resiprositas",
        "c_transitivity": "Transitivitas",
        "c_components": "Komponen",
        "c_largest": "Komponen terbesar",
        "c_ei": "E-I",
        "c_ei_exp": "E-I harapan",
        "c_ei_resc": "E-I terskala",
        "c_ei_p": "p permutasi",
        "c_assort": "Asortativitas ± SE",
        "c_yules_q": "Yule's Q",
        "c_modularity": "Modularitas kelompok",
        "c_leiden_nmi": "NMI Leiden–kelompok",
        "ei_explain": ("Indeks E-I = (hubungan eksternal − internal) / (eksternal + internal), dari −1 (semua hubungan di dalam "
                       "kelompok) sampai +1 (semua lintas kelompok). Jika ukuran kelompok tidak sama, E-I negatif sudah "
                       "diharapkan walaupun hubungan terjalin acak, karena pasangan sekelompok lebih banyak. Karena itu "
                       "bandingkan E-I dengan E-I harapan; E-I terskala (berbasis kepadatan) bernilai 0 jika acak. "
                       "p permutasi: label kelompok diacak {perms} kali (seed {seed})."),
        "assort_explain": ("Asortativitas nominal Newman: 0 = pencampuran acak, +1 = semua hubungan di dalam kelompok. "
                           "Yule's Q > 0: pasangan sekelompok lebih mungkin terhubung."),
        "t_groups": "E-I dan kepadatan per kelompok",
        "c_ties_internal": "Hubungan internal",
        "c_ties_external": "Hubungan eksternal",
        "c_density_internal": "Kepadatan internal",
        "c_coleman": "Indeks Coleman",
        "t_mixing": "Matriks pencampuran (jumlah hubungan)",
        "c_from": "Dari kelompok",
        "c_to": "Ke kelompok",
        "t_change": "Perubahan hubungan antarputaran",
        "c_common": "Titik yang sama",
        "c_jaccard": "Jaccard",
        "c_hamming": "Hamming",
        "c_kept": "Tetap",
        "c_new": "Baru",
        "c_dropped": "Putus",
        "c_new_within": "Baru (dalam)",
        "c_new_between": "Baru (lintas)",
        "c_dropped_within": "Putus (dalam)",
        "c_dropped_between": "Putus (lintas)",
        "c_delta_ei": "Δ E-I",
        "c_delta_ei_p": "p Δ E-I",
        "c_qap_r": "Korelasi QAP",
        "c_qap_p": "p QAP",
        "c_rsiena": "Layak RSiena",
        "jaccard_note": ("Jaccard = hubungan tetap / (tetap + baru + putus). Untuk analisis lanjutan dengan RSiena (model "
                         "perubahan jejaring), nilai Jaccard di atas 0,3 dianjurkan; di bawah itu perubahan terlalu besar "
                         "untuk diasumsikan bertahap. Berkas siap-RSiena ada di exports/network/."),
        "t_brokerage": "Peran perantara (Gould–Fernandez): jumlah teramati dan harapan",
        "c_role": "Peran",
        "c_observed": "Teramati",
        "c_expected_n": "Harapan",
        "c_z": "z",
        "brokerage_note": ("Perantara menghubungkan dua orang yang tidak saling terhubung. Dengan hanya dua kelompok, peran "
                           "penghubung (liaison) selalu nol. Peran representatif dan penjaga gerbang menghubungkan kelompok."),
        "role_coordinator": "Koordinator (A→A→A)",
        "role_itinerant": "Konsultan (A→B→A)",
        "role_representative": "Representatif (A→A→B)",
        "role_gatekeeper": "Penjaga gerbang (A→B→B)",
        "role_liaison": "Penghubung (A→B→C)",
        "role_total": "Total",
        "t_net_prepost": "Indikator jejaring individu sebelum dan sesudah (semua jenis hubungan)",
        "exports_written": "Berkas jejaring untuk Gephi/RSiena/R ditulis ke exports/network/ (GraphML, GEXF, matriks RSiena).",
        "one_wave_scope": ("Baru satu putaran survei yang berisi jawaban ({wave}); belum ada putaran lanjutan. Laporan ini "
                           "menggambarkan keadaan awal saja: sampel, skor dan reliabilitas skala, dan jejaring. "
                           "Perbandingan sebelum\u2013sesudah (uji berpasangan, model campuran, perubahan jejaring) "
                           "muncul setelah putaran kedua ditambahkan ke studi."),
        "empty_waves": "Putaran {waves} belum berisi jawaban.",
        "one_wave_note": "Belum ada putaran lanjutan (baru {wave}): {what} muncul setelah putaran kedua ditambahkan.",
        "no_scales": ("Studi ini tidak memiliki butir skala (peta skala kosong), jadi tidak ada skor kepercayaan "
                      "atau norma; bagian lain laporan tetap berlaku."),
        "no_pairs": "Tidak ada responden yang mengisi dua putaran, jadi belum ada perbandingan berpasangan.",
        "ow_paired": "uji sebelum\u2013sesudah berpasangan",
        "ow_mixed": "model campuran putaran \u00d7 kelompok",
        "ow_change": "perubahan jejaring antarputaran",
        "exports_missing": "Ekspor jejaring (GraphML, GEXF, RSiena) belum tersedia: modul jejaring belum ada.",
        # collective
        "coll_intro": ("Sebuah tinjauan pustaka tentang pengorganisasian kolektif UMKM (Maryam dkk. 2026) melaporkan bahwa "
                       "pembelian bahan bersama menurunkan biaya bahan sebesar 20–30% dan bahwa merek bersama membuka "
                       "penjualan digital. Angka itu berasal dari literatur, bukan dari data ini. Tabel berikut melihat apakah "
                       "data studi ini menunjukkan hubungan (asosiasi) searah pada setiap putaran: selisih rata-rata antara yang "
                       "melakukan dan yang tidak, dengan IK 95% (uji t Welch). Ini bukan uji atas angka 20–30% itu dan bukan "
                       "bukti sebab-akibat."),
        "t_collective": "Klaim aksi kolektif: selisih rata-rata (melakukan − tidak)",
        "c_claim": "Klaim",
        "c_note": "Keterangan",
        "claim_joint_purchasing_input_cost_ratio": "Beli bahan bersama ↔ rasio biaya bahan / omzet",
        "claim_collective_brand_digital_channels": "Merek bersama ↔ jumlah kanal penjualan digital",
        "coll_sentence": ("{claim}, {wave}: selisih {est} ({ci} {lo} {to} {hi}; p {p}; n = {n}). {verdict}"),
        "coll_sig": "Ada hubungan yang jelas, tetapi bukan bukti sebab-akibat.",
        "coll_unsure": "Hubungan belum dapat dipastikan.",
        "t_practices": "Praktik kolektif per putaran dan kelompok (% responden)",
        "practice_joint_purchasing": "Beli bahan bersama",
        "practice_collective_brand": "Merek bersama",
        "practice_shared_storage": "Gudang/stok bersama",
        "practice_emergency_fund": "Dana darurat bersama",
        "practice_digital": "Menjual secara digital",
        "c_revenue": "Median omzet (Rp/bulan)",
        "c_input_costs": "Median biaya bahan (Rp/bulan)",
        # methods
        "m_instrument_head": "Instrumen",
        "m_instrument": ("Butir kepercayaan dan norma berskala Likert {lo}–{hi}. Butir negatif (reverse) dibalik dengan "
                         "{lo} + {hi} − nilai sebelum dihitung. Tabel berikut mencantumkan butir per subskala."),
        "t_instrument": "Butir per dimensi dan subskala",
        "c_subscale": "Subskala",
        "c_items": "Butir",
        "c_reverse_items": "Butir negatif",
        "m_scoring_head": "Penskoran",
        "m_scoring": ("Skor = rata-rata butir yang dijawab (setelah pembalikan). Responden perlu menjawab paling sedikit "
                      "{share} butir sebuah dimensi; jika kurang, skornya kosong. Reliabilitas: α Cronbach dengan IK 95% "
                      "(metode Feldt) dan ω McDonald dari analisis faktor satu faktor (minres), per putaran."),
        "m_tests_head": "Uji statistik",
        "m_tests": ("Uji t berpasangan (dua sisi) dengan besar efek d_z dan IK 95%-nya (distribusi t nonsentral); uji "
                    "Wilcoxon bertanda sebagai pembanding; koreksi Holm atas keluarga dimensi (trust, norms dan "
                    "subskalanya, serta indikator jejaring) dalam satu kelompok × pasangan putaran; α = {alpha}. "
                    "Model campuran linear skor ~ putaran × kelompok + (1 | responden) (REML; dengan beberapa desa: "
                    "intersep acak desa dan responden di dalam desa; diperiksa terhadap lme4) memakai "
                    "semua jawaban; bila varians antarresponden runtuh ke nol atau model tidak konvergen, dipakai OLS "
                    "dengan galat baku cluster per responden, dan tabelnya menyebutkan hal itu."),
        "m_network_head": "Definisi jejaring",
        "m_network": ("Hubungan = nominasi berarah dari daftar pelaku UMKM desa (generator nama berbasis daftar), per jenis "
                      "hubungan ({ties}) dan gabungannya. Kepadatan = hubungan / kemungkinan hubungan. E-I = (E − I)/(E + I); "
                      "E-I harapan = nilai E-I bila hubungan tersebar acak di antara pasangan yang mungkin; E-I terskala "
                      "memakai kepadatan dalam dan antarkelompok (0 = acak). Uji permutasi label kelompok ({perms} kali, "
                      "seed {seed}). Asortativitas nominal Newman dengan SE jackknife; Yule's Q; komunitas Leiden dengan "
                      "fungsi tujuan modularitas, dibandingkan dengan kelompok (NMI); peran perantara Gould–Fernandez; "
                      "perubahan: Jaccard, Hamming, hubungan tetap/baru/putus di dalam dan lintas kelompok, uji permutasi "
                      "Δ E-I, korelasi QAP."),
        "m_limits_head": "Keterbatasan",
        "m_limits": [
            "Rancangan satu kelompok sebelum–sesudah tanpa desa pembanding: perubahan bisa juga disebabkan oleh hal lain "
            "(musim, harga, kegiatan lain, atau karena responden sudah pernah mengisi survei). Laporan ini tidak menarik "
            "kesimpulan sebab-akibat.",
            "Responden yang keluar atau baru tidak masuk uji berpasangan; jika yang keluar berbeda dari yang bertahan, hasil "
            "bisa bias. Model campuran memakai semua jawaban, tetapi tetap mengandaikan data hilang secara acak.",
            "Semua ukuran adalah laporan diri; jawaban bisa dipengaruhi keinginan menyenangkan tim program.",
            "Jejaring hanya mencakup pelaku UMKM dalam daftar desa; hubungan dengan orang di luar daftar tidak terlihat. "
            "Orang yang tidak mengisi survei tetap dapat dipilih orang lain, tetapi pilihannya sendiri tidak ada.",
            "Dengan sampel kecil, kesetaraan pengukuran antarputaran (measurement invariance) tidak dapat diuji penuh; "
            "laporan ini menyajikan reliabilitas per putaran sebagai gantinya.",
            "Klaim aksi kolektif diuji sebagai hubungan pada satu waktu (asosiasi), bukan efek program.",
        ],
        # colophon
        "colophon_intro": "Semua angka dapat dihasilkan ulang dari data mentah dengan perintah \u201cmake report\u201d pada komit dan versi paket berikut.",
        "c_key": "Hal",
        "c_value": "Nilai",
        "k_commit": "Komit git",
        "k_python": "Python",
        "k_seed": "Seed analisis",
        "k_perms": "Jumlah permutasi",
        "k_alpha": "α uji",
        "k_min_share": "Porsi butir minimum per skor",
        "k_source": "Jenis sumber data",
        "k_study": "Studi",
        "k_manifest_written": "Manifes data mentah ditulis",
        "k_key_fingerprint": "Sidik kunci kode samaran (bukan kuncinya)",
        "t_packages": "Versi paket",
        "c_package": "Paket",
        "c_version": "Versi",
        "t_raw": "Data mentah per putaran",
        "c_pulled_at": "Diambil pada",
        "c_files": "Berkas",
        "c_checksum": "Checksum SHA-256 (gabungan berkas)",
        "checksum_note": "Checksum = SHA-256 dari baris \u201cpath sha256\u201d semua berkas putaran itu, diurutkan.",
        "no_git": "tidak diketahui (bukan repositori git)",
        "not_installed": "tidak terpasang",
        "manifest_missing": "manifest.json data mentah belum ada",
        "footer": "Dibuat oleh sinergi. Identitas responden disamarkan; laporan ini tidak memuat nama.",
        "tables_files": ("Semua tabel juga tersedia sebagai CSV dan satu buku kerja XLSX di folder tables/; data skor untuk "
                         "SPSS/Stata di exports/. Lembar ringkas satu halaman A4 untuk pertemuan warga: handout.html."),
    },
    "en": {
        "lang_attr": "en",
        "report": "Social capital evaluation report",
        "site": "Site",
        "source": "Data source",
        "waves": "Survey waves",
        "contents": "Contents",
        "not_available": "This section is not available yet: {what}.",
        "missing_file": "the file {file} does not exist yet (run \u201c{cmd}\u201d)",
        "sec_summary": "Summary",
        "sec_data": "Data",
        "sec_trust": "Trust and norms",
        "sec_network": "Network",
        "sec_collective": "Collective action and outcomes",
        "sec_designs": "Evaluation design: invariance, missing data, comparison villages",
        "plan_head": "Power for the next program",
        "plan_none": "Not computed yet: run `make plan` (settings under the study key `plan`).",
        "plan_intro": ("A simulation of the next program's design (key `plan`): {vp} program villages, {vc} comparison villages, "
                       "{part} taking part, attrition {att}, response rate {rr}; an effect of {es} SD on a scale and {et} added "
                       "probability of a new cross-group tie between participants; {sims} simulations per size, α = {alpha}. "
                       "Power = the share of simulations whose test finds the effect. This is a design, not this study's data: "
                       "write it into the next proposal."),
        "plan_sent_ok": "{test}: power ≥ 80% from {n} respondents per village.",
        "plan_sent_short": "{test}: power stays below 80% up to {n} respondents per village (highest {pmax}).",
        "plan_sent_never": ("{test}: with this few villages randomization inference cannot reach p < α, so power is 0 at any "
                            "number of respondents; add villages."),
        "plan_t_paired_scale": "Paired t-test, scale (program villages)",
        "plan_t_did_scale": "Difference-in-differences, scale (randomization over villages)",
        "plan_t_paired_ei": "Change in individual E-I (program villages)",
        "plan_t_did_ei": "Village ΔE-I, program vs comparison (randomization over villages)",
        "t_plan": "Power by respondents per village",
        "plan_c_test": "Test", "plan_c_n": "Respondents per village", "plan_c_power": "Power", "plan_c_se": "Monte Carlo SE",
        "plan_fig": "Power curve: dashed line = 80%.",
        "cov_head": "Missing network data",
        "cov_none": "There are no network data.",
        "cov_intro": ("Whole-network measures use ties between respondents only; a person named but not answering drops out "
                      "with their ties. Coverage = respondents / (respondents + people named who did not answer), an upper "
                      "bound of the roster response rate. E-I sensitivity: the lower and upper bounds count every nomination, "
                      "people of unknown group taken as in the nominator's group (lower) or in the other group (upper); the "
                      "reconstruction assumes a non-respondent names back whoever named them (Huisman 2009)."),
        "cov_ok": ("{site}, {wave}: coverage {cov} ({n} people named who did not answer, {ties} nominations of them); observed "
                   "E-I {ei}, range with every nomination [{lo}; {hi}], reconstructed {rec}."),
        "cov_warn": ("Warning — {site}, {wave}: coverage only {cov} (below {thr}); {n} people named did not answer. Observed "
                     "E-I {ei}, range [{lo}; {hi}], reconstructed {rec}: this village's network measures may be biased; "
                     "read them with their range."),
        "t_coverage": "Roster coverage and the sensitivity of network measures to non-respondents",
        "cov_table_note": "⚠ = coverage below {thr}. Observed E-I and assortativity = the network tables (respondents only).",
        "cov_c_site": "Village", "cov_c_cov": "Coverage", "cov_c_non": "Did not answer", "cov_c_to": "Nominations of them",
        "cov_c_ei": "Observed E-I", "cov_c_lo": "E-I lower", "cov_c_hi": "E-I upper", "cov_c_rec": "Reconstructed E-I",
        "cov_c_r": "Observed assortativity", "cov_c_rrec": "Reconstructed assortativity", "cov_c_warn": "Warning",
        "inv_head": "Measurement invariance",
        "inv_none": "There are no scales to test for invariance.",
        "inv_intro": ("Comparing the means of two groups (local vs migrant) or of two waves assumes the items mean the same "
                      "to both. Per dimension a multi-group confirmatory factor analysis (one factor per subscale, maximum "
                      "likelihood) is fitted at three levels: configural (same pattern), metric (equal loadings), scalar "
                      "(equal loadings and intercepts). A level holds when, against the level before, ΔCFI ≥ −0.010 and "
                      "ΔRMSEA ≤ 0.015 (Chen 2007); the configural model needs CFI ≥ 0.90. The comparison of waves treats "
                      "them as separate samples (the same people answer twice), an approximation."),
        "inv_v_scalar": ("{dim}, {a} vs {b}: scalar invariance holds (n = {n}; configural CFI {cfi}), so comparing the "
                         "groups' mean scores is supported."),
        "inv_v_metric": ("{dim}, {a} vs {b}: metric but not scalar invariance (n = {n}): comparisons of this scale's mean "
                         "scores between {a} and {b} are not supported by the data; relations (correlations, regressions) "
                         "can still be compared."),
        "inv_v_configural": ("{dim}, {a} vs {b}: configural invariance only (n = {n}): the items' loadings differ between "
                             "the groups, so comparisons of this scale's mean scores are not supported."),
        "inv_v_configural_poor": ("{dim}, {a} vs {b}: the factor model itself fits poorly (configural CFI {cfi} < 0.90; "
                                  "n = {n}), so invariance cannot be judged and mean comparisons of this scale are not "
                                  "yet supported."),
        "inv_v_not_estimable": "{dim}, {a} vs {b}: cannot be estimated ({note}).",
        "inv_heywood": ("Some models estimate a negative residual variance (a Heywood case), usually from a small sample: "
                        "read their fit indices with care."),
        "t_invariance": "Measurement invariance: configural, metric, scalar",
        "inv_table_note": "χ², CFI and RMSEA as lavaan (ML estimator, listwise deletion); ΔCFI and ΔRMSEA against the level before.",
        "inv_c_groups": "Compared",
        "inv_c_level": "Level",
        "inv_c_holds": "Holds",
        "inv_l_configural": "configural", "inv_l_metric": "metric", "inv_l_scalar": "scalar",
        "did_head": "Difference-in-differences (program vs comparison villages)",
        "did_none": ("This study has no comparison village, so there is no difference-in-differences; mark the villages "
                     "with the `arms` key of the study file (README)."),
        "did_intro": ("{g} villages: {gp} program and {gc} comparison. The change from the first to the last wave is "
                      "compared between the two sets of villages. A mixed model (random intercepts for villages and for "
                      "respondents within villages, REML) gives an estimate and a model standard error, but that error "
                      "ignores that villages differ in how they change; with this few villages the conclusions use "
                      "randomization inference over villages: the estimate is recomputed for {k} ways of giving the "
                      "program label to villages (seed {seed}); the smallest reachable p = {pmin}."),
        "did_too_few": ("With {g} villages randomization inference cannot reach p < {alpha} (smallest p = {pmin}): the "
                        "differences-in-differences below are descriptive, not causal evidence. Add comparison (or program) "
                        "villages to be able to test."),
        "did_sent_descr": ("{what}: difference-in-differences {est} (mixed model {mest}, model 95% CI [{mlo}; {mhi}]); "
                           "with this few villages it cannot be tested, so no causal claim yet."),
        "did_sent_sig_up": ("{what}: rose more in the program villages than in the comparison villages, "
                            "difference-in-differences {est} (randomization 95% CI [{lo}; {hi}], {p})."),
        "did_sent_sig_down": ("{what}: fell in the program villages relative to the comparison villages, "
                              "difference-in-differences {est} (randomization 95% CI [{lo}; {hi}], {p})."),
        "did_sent_unsure": ("{what}: difference-in-differences {est} (randomization 95% CI [{lo}; {hi}], {p}); not yet "
                            "distinguishable from zero."),
        "did_node_degree": "Ties (degree) per person",
        "did_node_bridging": "Cross-group (bridging) ties per person",
        "did_node_ei": "Individual E-I index",
        "did_v_ei": "Village E-I index",
        "did_v_cross_share": "Share of cross-group ties",
        "did_v_assortativity": "Assortativity",
        "did_c_tie": "Tie type",
        "did_c_outcome": "Measure",
        "did_c_villages": "Villages",
        "did_m_did_mixed": "DiD, mixed model (model SE)",
        "did_m_did_ri": "DiD, randomization inference over villages",
        "did_m_ancova_mixed": "ANCOVA, mixed model (model SE)",
        "did_m_ancova_ri": "ANCOVA, randomization inference over villages",
        "did_m_village_ri": "village level, randomization inference",
        "t_did": "Difference-in-differences and ANCOVA: program vs comparison villages",
        "did_table_note": ("DiD = wave × village-arm interaction (first vs last wave). ANCOVA = last-wave score ~ program + "
                           "first-wave score (respondents seen in both waves). Randomization CI = the effects the "
                           "randomization test does not reject; ∞ means too few villages to bound it."),
        "t_did_village": "Village-level network measures: change in program villages − change in comparison villages",
        "did_village_note": "One value per village × wave; randomization inference over villages.",
        "bal_intro": "Baseline balance ({wave}): program and comparison villages compared before the program.",
        "bal_ok": "No variable has |SMD| > 0.25.",
        "bal_bad": ("{n} variables differ noticeably (|SMD| > 0.25): the comparison villages are not comparable on them, "
                    "so the ANCOVA and covariate adjustment matter."),
        "t_balance": "Baseline balance: program vs comparison villages",
        "bal_c_var": "Variable",
        "bal_c_prog": "Program mean",
        "bal_c_comp": "Comparison mean",
        "bal_c_p": "p (randomization)",
        "bal_share": "Share {g}",
        "bal_age": "Age", "bal_years_in_village": "Years in the village", "bal_business_age": "Business age (years)",
        "bal_employees": "Employees", "bal_revenue": "Revenue", "bal_membership_n": "Memberships",
        "sec_methods": "Methods and limitations",
        "sec_colophon": "Colophon",
        "figure": "Figure",
        "table": "Table",
        "docx_toc": "Contents",
        "docx_tables": "List of tables",
        "docx_figures": "List of figures",
        "docx_fields": "Right-click and choose Update Field (or press F9) to refresh this list.",
        "docx_appendix": "Appendix: long tables",
        "docx_in_appendix": "{table} {number} ({title}, {rows} rows) is in the Appendix in full.",
        "docx_continued": "continued, columns {first}–{last} of {total}",
        "docx_page": "Page",
        "all": "All",
        "group_all_phrase": "all respondents",
        "group_phrase": "{label} respondents",
        "wave": "Wave",
        "group": "Group",
        "dimension": "Dimension",
        "item": "Item",
        "tie_type": "Tie type",
        "yes": "Yes",
        "no": "No",
        "scale_range": "the {lo}–{hi} scale",
        "summary_intro": ("This report summarises the social-capital survey of UMKM owners in {site}: {waves}. "
                          "Every number below comes straight from the tables in the following sections."),
        "summary_wave_n": "{wave} {n} respondents",
        "summary_pairs": ("{n} respondents answered in both waves ({pre}; {post}); the before/after comparison "
                          "uses their paired answers."),
        "summary_trust_head": "Trust and shared norms",
        "summary_gap_head": "Did the gap between the groups close?",
        "summary_network_head": "Networks among UMKM owners",
        "summary_caveat": ("Note: the survey compares the same people before and after the program, with no comparison "
                           "village. A change is not necessarily caused by the program (see Methods and limitations)."),
        "summary_howto": ("How to read this: \u201csignificant\u201d means the change is unlikely to be chance alone "
                          "(Holm-adjusted p < {alpha} and the 95% confidence interval (CI) excludes zero). \u201cNot yet "
                          "certain\u201d means the data are still compatible with no change. d_z measures the size of the "
                          "change relative to its spread: about 0.2 small, 0.5 medium, 0.8 large."),
        "v_sig_up": "increased significantly",
        "v_sig_down": "decreased significantly",
        "v_holm_up": "rose, but is not significant after the Holm correction for multiple tests",
        "v_holm_down": "fell, but is not significant after the Holm correction for multiple tests",
        "v_unsure_up": "tends to be higher, but this is not yet certain",
        "v_unsure_down": "tends to be lower, but this is not yet certain",
        "v_flat": "practically did not change",
        "v_untestable": "cannot be tested yet (too few pairs)",
        "up": "up",
        "down": "down",
        "points": "points",
        "pairs": "pairs",
        "ci95": "95% CI",
        "to": "to",
        "p_holm_label": "Holm p",
        "sentence_scale": ("{dim} among {grp} {verdict}: {dir} {absdiff} {points}, from {pre} to {post} "
                           "on {scale} ({ci} {lo} {to} {hi}; d_z = {dz}; {plabel} {p}; n = {n} {pairs})."),
        "sentence_scale_untestable": "{dim} among {grp} {verdict} (n = {n} {pairs}).",
        "gap_sentence": ("{dim}: at baseline ({pre}), {g2} respondents scored {abs0} points {dir0} than {g1} respondents. The change among "
                         "{g2} respondents was {absint} points {cmp} than among {g1} respondents ({ci} {lo} {to} {hi}; p {p}; "
                         "{method}). {verdict}"),
        "gap_higher": "higher",
        "gap_lower": "lower",
        "gap_more": "larger",
        "gap_less": "smaller",
        "gap_closed_sig": "So the gap between the two groups narrowed significantly.",
        "gap_widened_sig": "So the gap between the two groups widened significantly.",
        "gap_closed_unsure": "The gap appears to narrow, but this is not yet certain.",
        "gap_widened_unsure": "The gap appears to widen, but this is not yet certain.",
        "gap_flat": "Both groups changed by about the same amount.",
        "sentence_ei": ("{wave} ({tie}): {ext} of {total} ties ({share}) connect locals and migrants. The E-I index is {ei}, "
                        "while random tie formation would give {exp} (rescaled E-I = {resc}; permutation p {p}). {verdict}"),
        "ei_more_within_sig": "Ties stay within one's own group more than random mixing would produce.",
        "ei_more_between_sig": "There are more cross-group ties than random mixing would produce.",
        "ei_unsure": "The difference from random mixing is not yet certain.",
        "sentence_change": ("{pre} → {post} ({tie}): {new_b} new cross-group ties formed and {drop_b} were dropped "
                            "(within groups: {new_w} new, {drop_w} dropped). Among the {common} respondents present in both waves, "
                            "E-I went {dir} by {absd} (from {ei0} to {ei1}; p {p}). {verdict}"),
        "change_sig_up": "The network became significantly more open across groups.",
        "change_sig_down": "The network became significantly more closed within groups.",
        "change_unsure_up": "The network tends to be more open across groups, but this is not yet certain.",
        "change_unsure_down": "The network tends to be more closed within groups, but this is not yet certain.",
        "change_flat": "Openness across groups did not change.",
        "data_intro": ("Respondents per wave and group. \u201cRetained\u201d = also answered in the previous wave; "
                       "\u201cleft\u201d = answered in the previous wave but not in this one; \u201cnew\u201d = did not answer "
                       "in the previous wave."),
        "t_sample": "Respondents per wave and group",
        "c_n": "n",
        "c_retained": "Retained",
        "c_attrition": "Left",
        "c_newcomers": "New",
        "c_in_all": "In all waves",
        "data_attrition": ("{prev} → {cur}: {ret} respondents stayed, {att} left ({attp} of {nprev}) and {new} joined. "
                           "Only those who stayed enter the paired tests; the mixed models use every answer."),
        "t_quality": "Data-quality issues found and handled",
        "c_issue": "Issue",
        "c_action": "Action",
        "c_count": "Count",
        "quality_none": "No data-quality issues were recorded.",
        "quality_intro": ("Every submission is checked: duplicate uploads, refused consent, self-nominations and nominations "
                          "of people not on the roster. The details are in quality.csv."),
        "validation_exclude_not_approved": ("KoboToolbox validation status: every submission counts except those marked "
                                            "Not Approved (the server's latest status at the pull; edited submissions are "
                                            "read in their latest version, deleted ones are left out)."),
        "validation_approved_only": ("KoboToolbox validation status: only submissions marked Approved count "
                                     "(validation: approved_only; the server's latest status at the pull; edited "
                                     "submissions are read in their latest version, deleted ones are left out)."),
        "t_missing": "Unanswered items per dimension",
        "c_expected": "Answers expected",
        "c_missing": "Unanswered",
        "c_missing_pct": "% unanswered",
        "missing_sentence": "Overall {pct} of scale-item answers were left blank ({n} of {total}).",
        "trust_intro": ("Trust and norms are measured with 1–5 Likert statements (1 = strongly disagree, 5 = strongly agree). "
                        "A score is the mean of the answered items after reverse-coding negative items, so a higher score "
                        "always means more trust or stronger norms."),
        "fig_dumbbell": "Mean score before (open circle) and after (filled circle) by group, paired respondents only",
        "fig_dist": "Score distributions by wave and group (box: quartiles; dots: respondents)",
        "t_paired_stats": "Paired Samples Statistics",
        "t_paired_test": "Paired Samples Test",
        "t_effects": "Effect sizes, Wilcoxon test, Holm correction, N-gain and percentage change",
        "c_pair": "Pair",
        "c_mean": "Mean",
        "c_sd": "Std. Deviation",
        "c_se": "Std. Error Mean",
        "c_mean_diff": "Mean difference",
        "c_ci_low": "95% CI Lower",
        "c_ci_high": "95% CI Upper",
        "c_t": "t",
        "c_df": "df",
        "c_sig": "Sig. (2-tailed)",
        "c_lower": "lower",
        "c_upper": "upper",
        "c_dz": "d_z",
        "c_dz_ci": "95% CI of d_z",
        "c_W": "Wilcoxon V",
        "c_p_w": "Wilcoxon p",
        "c_rb": "Rank-biserial r",
        "c_p_holm": "Holm p",
        "c_n_gain": "N-gain",
        "c_pct_change": "% change",
        "c_shapiro": "Shapiro-Wilk p",
        "c_n_pairs": "n pairs",
        "c_n_unmatched": "unmatched",
        "paired_note": ("Difference = after − before, so a positive number is an increase. Only respondents with a score in "
                        "both waves are paired ({unmatched} person-dimensions without a pair are not used here)."),
        "formulas_head": "Formulas",
        "f_dz": "d_z = mean(D) / sd(D) = t / √n, with D = score after − score before (not the d_avg pingouin reports for paired data).",
        "f_ngain": "N-gain (Hake) = (mean after − mean before) / (maximum score − mean before); maximum score = {max}.",
        "f_pct": "% change = (mean after − mean before) / mean before × 100. The denominator is the mean before (not after, as in some PKM reports).",
        "f_holm": "Holm p: the paired-t p adjusted by Holm's method over the whole family of dimensions within one group × pair of waves.",
        "f_wilcoxon": "The Wilcoxon signed-rank test (V = sum of the ranks of positive differences) is a check that does not assume normality; rank-biserial r > 0 means an increase.",
        "t_reliability": "Scale reliability per wave",
        "c_k": "No. of items",
        "c_alpha": "Cronbach's α",
        "c_alpha_ci": "95% CI of α",
        "c_omega": "McDonald's ω",
        "c_flag": "Note",
        "rel_low": "below 0.70: items are not very consistent, interpret with care",
        "rel_ok": "adequate",
        "rel_heywood": "ω from a Heywood solution (an item's communality ≥ 0.995): do not interpret",
        "rel_note": "α and ω below 0.70 count as low. Computed on respondents who answered every item of the dimension.",
        "t_items": "Percentage agreeing per item (answers 4 or 5)",
        "c_item_text": "Statement",
        "c_reverse": "Negative item",
        "c_pct_agree": "% agree",
        "items_note": ("% agree uses the raw answers (4 = agree, 5 = strongly agree). For negative items (marked), agreeing means "
                       "weaker trust or norms; the means are reverse-coded so that higher = better."),
        "t_mixed": "Mixed model: score ~ wave × group + (1 | respondent)",
        "c_term": "Term",
        "c_estimate": "Estimate",
        "c_se_short": "SE",
        "c_p": "p",
        "c_method": "Method",
        "mixed_intro": ("The mixed model uses every answer, including respondents seen in one wave only. The wave × group "
                        "interaction answers: did the change among {g2} respondents differ from the change among {g1} "
                        "respondents? If {g2} respondents started lower and the interaction is positive, the gap between "
                        "locals and migrants closed."),
        "mixed_fallback": ("For {dims} the between-respondent variance of the mixed model collapsed to about zero or the model "
                           "did not converge, so the estimates were refitted by OLS with standard errors clustered by "
                           "respondent (cluster-robust)."),
        "term_intercept": "Intercept ({g1}, {w1})",
        "term_wave": "Wave: {w} (change among {g1})",
        "term_group": "Group: {g} (baseline difference from {g1})",
        "term_inter": "Interaction {w} × {g} (difference in change)",
        "term_var_respondent": "Between-respondent variance",
        "term_var_site": "Between-site variance",
        "term_var_residual": "Residual variance",
        "method_mixedlm_reml": "mixed model (REML)",
        "method_ols_collapsed": "OLS + cluster SE (between-respondent variance ≈ 0)",
        "method_ols_nonconv": "OLS + cluster SE (mixed model did not converge)",
        "method_skipped": "skipped",
        "t_dose": "Dose–response: change in score by program participation",
        "c_exposure": "Participation",
        "c_slope": "Slope",
        "c_r": "r",
        "dose_note": ("Slope = average change in score per extra forum meeting or training attended. This is an association, "
                      "not proof of cause: more active people may have differed from the start."),
        "exp_forum_meetings": "Forum meetings attended",
        "exp_trainings_n": "Trainings attended",
        "net_intro": ("Each respondent picked, from the list of the village's UMKM owners, whom they share business information "
                      "with, whom they ask for help or borrow from, and whom they collaborate with in business. One pick = "
                      "one directed tie. \u201cAny tie\u201d combines the three."),
        "fig_sociogram": ("The {tie} network before and after, with the same node positions in both panels (layout computed once "
                          "on the union of all waves, seed {seed}). Colour = group; thick coloured lines = cross-group ties; "
                          "faded nodes = did not answer in that wave."),
        "fig_sociogram_one": ("The {tie} network in the {wave} wave (layout seed {seed}). Colour = group; thick coloured "
                              "lines = cross-group ties."),
        "sociogram_subset": ("This study covers {n} villages; the network figure shows the first {k} ({names}). Every "
                             "village's network is in exports/network/graphs/ (GraphML, GEXF) and all its measures in the tables."),
        "fig_mixing": "Mixing matrix: ties from group (row) to group (column) per wave, with row percentages",
        "fig_cross_title": "What share of ties connect the two groups?",
        "fig_cross_share": ("Share of ties that cross groups (between locals and migrants) per tie type and survey "
                            "wave. The numbers come from the mixing matrix (the table of tie counts)."),
        "fig_within_word": "within",
        "fig_group_ties": ("Ties within and between groups per tie type: circle = group (area by its respondents), the "
                           "number inside = ties within the group; arrow = ties from one group to the other, thicker "
                           "for more."),
        "t_whole": "Whole-network measures per wave and tie type",
        "c_nodes": "Nodes",
        "c_ties": "Ties",
        "c_density": "Density",
        "c_reciprocity": "Reciprocity",
        "c_transitivity": "Transitivity",
        "c_components": "Components",
        "c_largest": "Largest component",
        "c_ei": "E-I",
        "c_ei_exp": "Expected E-I",
        "c_ei_resc": "Rescaled E-I",
        "c_ei_p": "Permutation p",
        "c_assort": "Assortativity ± SE",
        "c_yules_q": "Yule's Q",
        "c_modularity": "Group modularity",
        "c_leiden_nmi": "NMI Leiden–group",
        "ei_explain": ("E-I index = (external − internal ties) / (external + internal), from −1 (all ties within groups) to +1 "
                       "(all across groups). With unequal group sizes a negative E-I is expected even under random mixing, "
                       "because there are more same-group pairs. So compare E-I with its expected value; the density-based "
                       "rescaled E-I is 0 under random mixing. Permutation p: group labels shuffled {perms} times (seed {seed})."),
        "assort_explain": ("Newman's nominal assortativity: 0 = random mixing, +1 = all ties within groups. Yule's Q > 0: "
                           "same-group pairs are more likely to be tied."),
        "t_groups": "E-I and density per group",
        "c_ties_internal": "Internal ties",
        "c_ties_external": "External ties",
        "c_density_internal": "Internal density",
        "c_coleman": "Coleman index",
        "t_mixing": "Mixing matrix (tie counts)",
        "c_from": "From group",
        "c_to": "To group",
        "t_change": "Tie change between waves",
        "c_common": "Common nodes",
        "c_jaccard": "Jaccard",
        "c_hamming": "Hamming",
        "c_kept": "Kept",
        "c_new": "New",
        "c_dropped": "Dropped",
        "c_new_within": "New (within)",
        "c_new_between": "New (between)",
        "c_dropped_within": "Dropped (within)",
        "c_dropped_between": "Dropped (between)",
        "c_delta_ei": "Δ E-I",
        "c_delta_ei_p": "p of Δ E-I",
        "c_qap_r": "QAP correlation",
        "c_qap_p": "QAP p",
        "c_rsiena": "RSiena-ready",
        "jaccard_note": ("Jaccard = kept ties / (kept + new + dropped). For further analysis with RSiena (network change models) "
                         "a Jaccard above 0.3 is advised; below that the change is too large to be treated as gradual. "
                         "RSiena-ready files are in exports/network/."),
        "t_brokerage": "Brokerage roles (Gould–Fernandez): observed and expected counts",
        "c_role": "Role",
        "c_observed": "Observed",
        "c_expected_n": "Expected",
        "c_z": "z",
        "brokerage_note": ("A broker links two people who are not tied to each other. With only two groups the liaison role is "
                           "always zero. Representatives and gatekeepers link the groups."),
        "role_coordinator": "Coordinator (A→A→A)",
        "role_itinerant": "Consultant (A→B→A)",
        "role_representative": "Representative (A→A→B)",
        "role_gatekeeper": "Gatekeeper (A→B→B)",
        "role_liaison": "Liaison (A→B→C)",
        "role_total": "Total",
        "t_net_prepost": "Individual network indicators before and after (any tie)",
        "exports_written": "Network files for Gephi/RSiena/R were written to exports/network/ (GraphML, GEXF, RSiena matrices).",
        "one_wave_scope": ("Only one survey wave has answers so far ({wave}); there is no follow-up wave yet. This report "
                           "describes the baseline only: the sample, scale scores and their reliability, and the "
                           "networks. Before/after comparisons (paired tests, mixed models, network change) appear "
                           "once a second wave is added to the study."),
        "empty_waves": "The wave(s) {waves} have no answers yet.",
        "one_wave_note": "No follow-up wave yet (only {wave}): {what} will appear once a second wave is added.",
        "no_scales": ("This study has no scale items (its scale map is empty), so there are no trust or norms "
                      "scores; the other sections stand."),
        "no_pairs": "Nobody answered in two waves, so there are no paired comparisons.",
        "ow_paired": "the paired before/after tests",
        "ow_mixed": "the wave \u00d7 group mixed models",
        "ow_change": "the change in networks between waves",
        "exports_missing": "Network exports (GraphML, GEXF, RSiena) are not available yet: the network module is missing.",
        "coll_intro": ("A literature review of collective organising strategies for UMKM (Maryam et al. 2026) reports that "
                       "joint purchasing cuts input costs by 20–30% and that a collective brand opens digital sales. Those "
                       "figures come from the literature, not from these data. The table looks at whether this study's data "
                       "show associations in the same direction in each wave: the difference in means between those who do "
                       "and those who do not, with a 95% CI (Welch t test). It does not test the 20–30% figure and is not "
                       "evidence of cause and effect."),
        "t_collective": "Collective-action claims: difference in means (does − does not)",
        "c_claim": "Claim",
        "c_note": "Note",
        "claim_joint_purchasing_input_cost_ratio": "Joint purchasing ↔ input costs / revenue",
        "claim_collective_brand_digital_channels": "Collective brand ↔ number of digital sales channels",
        "coll_sentence": "{claim}, {wave}: difference {est} ({ci} {lo} {to} {hi}; p {p}; n = {n}). {verdict}",
        "coll_sig": "There is a clear association, but not proof of cause.",
        "coll_unsure": "The association is not yet certain.",
        "t_practices": "Collective practices by wave and group (% of respondents)",
        "practice_joint_purchasing": "Joint purchasing",
        "practice_collective_brand": "Collective brand",
        "practice_shared_storage": "Shared storage/stock",
        "practice_emergency_fund": "Collective emergency fund",
        "practice_digital": "Sells digitally",
        "c_revenue": "Median revenue (Rp/month)",
        "c_input_costs": "Median input costs (Rp/month)",
        "m_instrument_head": "Instrument",
        "m_instrument": ("Trust and norms items use a {lo}–{hi} Likert scale. Negative (reverse) items are recoded as "
                         "{lo} + {hi} − value before scoring. The table lists the items per subscale."),
        "t_instrument": "Items per dimension and subscale",
        "c_subscale": "Subscale",
        "c_items": "Items",
        "c_reverse_items": "Negative items",
        "m_scoring_head": "Scoring",
        "m_scoring": ("Score = mean of the answered items (after reverse-coding). A respondent must answer at least {share} of a "
                      "dimension's items, otherwise the score is missing. Reliability: Cronbach's α with a 95% CI (Feldt) and "
                      "McDonald's ω from a one-factor (minres) factor analysis, per wave."),
        "m_tests_head": "Statistical tests",
        "m_tests": ("Paired t test (two-sided) with the effect size d_z and its 95% CI (noncentral t); Wilcoxon signed-rank test "
                    "as a check; Holm correction over the family of dimensions (trust, norms and their subscales, plus the "
                    "network indicators) within one group × pair of waves; α = {alpha}. Linear mixed model score ~ wave × "
                    "group + (1 | respondent) (REML; with several villages, random intercepts for village and for "
                    "respondent within village; checked against lme4) on every answer; when the between-respondent "
                    "variance collapses to zero or the model does not converge, OLS with respondent-clustered standard "
                    "errors is used instead and the table says so."),
        "m_network_head": "Network definitions",
        "m_network": ("A tie = a directed nomination from the village UMKM roster (roster-based name generator), per tie type "
                      "({ties}) and their union. Density = ties / possible ties. E-I = (E − I)/(E + I); expected E-I = the E-I "
                      "if ties were spread at random over the possible pairs; rescaled E-I uses within- and between-group "
                      "densities (0 = random). Group-label permutation test ({perms} permutations, seed {seed}). Newman's "
                      "nominal assortativity with a jackknife SE; Yule's Q; Leiden communities with the modularity objective, "
                      "compared with the groups (NMI); Gould–Fernandez brokerage; change: Jaccard, Hamming, kept/new/dropped "
                      "ties within and across groups, permutation test of Δ E-I, QAP correlation."),
        "m_limits_head": "Limitations",
        "m_limits": [
            "One-group before/after design with no comparison village: a change may have other causes (season, prices, other "
            "activities, or having answered the survey before). This report draws no causal conclusion.",
            "Respondents who left or joined are not in the paired tests; if leavers differ from stayers the results may be "
            "biased. The mixed models use every answer but still assume data are missing at random.",
            "Everything is self-reported; answers may lean towards pleasing the program team.",
            "The network covers only UMKM owners on the village roster; ties to people outside it are invisible. People "
            "who did not answer can still be named by others, but their own nominations are missing.",
            "With small samples, measurement invariance across waves cannot be tested fully; the report shows per-wave "
            "reliability instead.",
            "The collective-action claims are tested as associations at one point in time, not as program effects.",
        ],
        "colophon_intro": "Every number can be reproduced from the raw data with the command \u201cmake report\u201d at the commit and package versions below.",
        "c_key": "Item",
        "c_value": "Value",
        "k_commit": "Git commit",
        "k_python": "Python",
        "k_seed": "Analysis seed",
        "k_perms": "Permutations",
        "k_alpha": "Test α",
        "k_min_share": "Minimum share of items per score",
        "k_source": "Source kind",
        "k_study": "Study",
        "k_manifest_written": "Raw-data manifest written",
        "k_key_fingerprint": "Pseudonym key fingerprint (not the key)",
        "t_packages": "Package versions",
        "c_package": "Package",
        "c_version": "Version",
        "t_raw": "Raw data per wave",
        "c_pulled_at": "Pulled at",
        "c_files": "Files",
        "c_checksum": "SHA-256 checksum (over the files)",
        "checksum_note": "Checksum = SHA-256 of the sorted \u201cpath sha256\u201d lines of every file of the wave.",
        "no_git": "unknown (not a git repository)",
        "not_installed": "not installed",
        "manifest_missing": "the raw-data manifest.json does not exist yet",
        "footer": "Made with sinergi. Respondents are pseudonymised; this report contains no names.",
        "tables_files": ("Every table is also in tables/ as CSV and in one XLSX workbook; score data for SPSS/Stata are in "
                         "exports/. A one-page A4 handout for the village meeting: handout.html."),
    },
}

DIMENSIONS = {
    "trust": ("Kepercayaan", "Trust"),
    "trust_generalized": ("Kepercayaan umum", "Generalised trust"),
    "trust_ingroup": ("Kepercayaan terhadap pelaku UMKM kelompok sendiri", "Trust in UMKM owners of one's own group"),
    "trust_outgroup": ("Kepercayaan terhadap pelaku UMKM kelompok lain", "Trust in UMKM owners of the other group"),
    "trust_institutional": ("Kepercayaan pada lembaga desa", "Trust in village institutions"),
    "norms": ("Norma bersama", "Shared norms"),
    "norms_reciprocity": ("Norma timbal balik", "Reciprocity"),
    "norms_gotong_royong": ("Gotong royong", "Gotong royong (mutual help)"),
    "norms_transparency": ("Keterbukaan", "Transparency"),
    "norms_commitment": ("Menepati komitmen", "Keeping commitments"),
    "norms_conflict": ("Penyelesaian konflik", "Conflict resolution"),
    "network_degree": ("Jumlah hubungan (derajat)", "Number of ties (degree)"),
    "network_bridging": ("Hubungan lintas kelompok (bridging)", "Cross-group ties (bridging)"),
    "network_ei": ("Indeks E-I individu", "Individual E-I index"),
}

TIE_TYPES = {
    "info": ("berbagi informasi", "information sharing"),
    "help": ("bantuan dan pinjam-meminjam", "help and lending"),
    "collab": ("kolaborasi usaha", "business collaboration"),
    "any": ("semua jenis hubungan", "any tie"),
}

ISSUES = {
    "duplicate upload (same meta/instanceID)": "unggahan ganda (meta/instanceID sama)",
    "marked Not Approved in KoboToolbox": "ditandai Not Approved di KoboToolbox",
    "no consent": "menolak persetujuan (tidak ikut survei)",
    "respondent submitted twice in the wave": "responden mengirim dua kali dalam satu putaran",
    "self-nomination": "memilih diri sendiri",
    "nominated someone not on the roster": "memilih orang di luar daftar",
    "the same nomination twice": "nominasi yang sama dua kali",
    "nominated someone who is not a respondent": "memilih orang yang bukan responden",
    "tie frequencies are not in a CSV export (an XLSX export has them)": "frekuensi ikatan tidak ada di ekspor CSV (unduh XLSX untuk bobotnya)",
    "export column matches no question of the form": "kolom ekspor tanpa pertanyaan di formulir (mis. versi formulir lama)",
    "edited in KoboToolbox after it was pulled": "diedit di KoboToolbox setelah diunduh",
    "deleted in KoboToolbox after it was pulled": "dihapus di KoboToolbox setelah diunduh",
    "validation status changed in KoboToolbox after it was pulled": "status validasi diubah di KoboToolbox setelah diunduh",
    "not Approved in KoboToolbox (the study counts Approved only)": "belum Approved di KoboToolbox (studi hanya menghitung yang Approved)",
    "form version not available from KoboToolbox": "versi formulir tidak tersedia dari KoboToolbox",
    "the same submission twice in the data": "kiriman yang sama dua kali dalam data",
    "column held back: looks personal": "kolom ditahan: tampak berisi data pribadi",
}

ACTIONS = {"dropped": "dibuang", "kept": "dipertahankan", "kept latest": "yang terbaru dipakai",
           "kept the latest": "yang terbaru dipakai", "ignored": "diabaikan", "kept first": "yang pertama dipakai",
           "weights left unknown (NaN)": "bobot dibiarkan tidak diketahui (NaN)",
           "left out": "tidak dipakai", "kept one": "satu dipertahankan",
           "the edited version used": "versi hasil edit yang dipakai", "now counted": "kini dihitung",
           "now left out": "kini tidak dipakai",
           "kept in data/raw only (list it in privacy.keep_columns to use it)":
               "hanya disimpan di data/raw (cantumkan di privacy.keep_columns untuk memakainya)"}


def s(lang: str, key: str, **kw: Any) -> str:
    """The string ``key`` in ``lang``, formatted with ``kw``."""
    text = STRINGS[lang][key]
    return text.format(**kw) if kw else text


def dim_label(dim: str, lang: str) -> str:
    if dim in DIMENSIONS:
        return DIMENSIONS[dim][0 if lang == "id" else 1]
    return dim.replace("_", " ").capitalize()


def tie_label(tie: str, lang: str) -> str:
    if tie in TIE_TYPES:
        return TIE_TYPES[tie][0 if lang == "id" else 1]
    return str(tie)


def issue_label(issue: str, lang: str) -> str:
    return ISSUES.get(issue, issue) if lang == "id" else issue


def action_label(action: str, lang: str) -> str:
    return ACTIONS.get(str(action), str(action)) if lang == "id" else str(action)


def method_label(method: Any, lang: str) -> str:
    m = str(method)
    if m == "mixedlm_reml":
        return s(lang, "method_mixedlm_reml")
    if m.startswith("ols_cluster") and "collapsed" in m:
        return s(lang, "method_ols_collapsed")
    if m.startswith("ols_cluster"):
        return s(lang, "method_ols_nonconv")
    if m.startswith("skipped"):
        return s(lang, "method_skipped") + m[len("skipped"):]
    return m


def capfirst(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# ---------------------------------------------------------------------------------------------
# hedged findings
# ---------------------------------------------------------------------------------------------


def verdict(estimate: float, ci_low: float, ci_high: float, p_adj: float, alpha: float) -> str:
    """One of ``sig``, ``holm``, ``unsure``, ``flat``, ``untestable`` (see the module docstring)."""
    if _missing(estimate) or _missing(ci_low) or _missing(ci_high):
        return "untestable"
    excludes = float(ci_low) > 0 or float(ci_high) < 0
    if float(estimate) == 0 or (not excludes and abs(float(estimate)) < 0.005):
        return "flat"
    if not excludes:
        return "unsure"
    if not _missing(p_adj) and float(p_adj) < alpha:
        return "sig"
    return "holm"


def sentence_scale(row: dict, lang: str, dim: str, grp_phrase: str, scale: tuple[float, float],
                   alpha: float) -> tuple[str, str]:
    """The summary sentence for one prepost row; returns (verdict code, sentence)."""
    v = verdict(row["diff"], row["diff_ci_low"], row["diff_ci_high"], row["p_holm"], alpha)
    direction = "up" if (not _missing(row["diff"]) and row["diff"] >= 0) else "down"
    key = {"sig": f"v_sig_{direction}", "holm": f"v_holm_{direction}", "unsure": f"v_unsure_{direction}",
           "flat": "v_flat", "untestable": "v_untestable"}[v]
    if v == "untestable":
        return v, capfirst(s(lang, "sentence_scale_untestable", dim=dim, grp=grp_phrase, verdict=s(lang, key),
                                n=integer(row["n_pairs"], lang), pairs=s(lang, "pairs")))
    text = s(lang, "sentence_scale", dim=dim, grp=grp_phrase, verdict=s(lang, key), dir=s(lang, direction),
             absdiff=num(abs(row["diff"]), lang), points=s(lang, "points"), pre=num(row["mean_pre"], lang),
             post=num(row["mean_post"], lang),
             scale=s(lang, "scale_range", lo=num(scale[0], lang, 0), hi=num(scale[1], lang, 0)),
             ci=s(lang, "ci95"), lo=num(row["diff_ci_low"], lang), to=s(lang, "to"), hi=num(row["diff_ci_high"], lang),
             dz=num(row["d_z"], lang), plabel=s(lang, "p_holm_label"), p=peq(row["p_holm"], lang),
             n=integer(row["n_pairs"], lang), pairs=s(lang, "pairs"))
    return v, capfirst(text)
