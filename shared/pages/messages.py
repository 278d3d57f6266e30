"""The page message catalogue: key -> (Bahasa Indonesia, English). Indonesian comes first."""

MESSAGES: dict[str, tuple[str, str]] = {
    "app.name": ("Kawal Aspirasi", "Kawal Aspirasi"),
    "app.tagline": (
        "Aspirasi warga dari pertemuan Polri, dikawal sampai tuntas",
        "Residents' aspirations from police meetings, followed until resolved",
    ),
    "lang.switch": ("English", "Bahasa Indonesia"),
    "nav.track": ("Lacak aspirasi", "Track an aspiration"),
    "nav.log": ("Catat pertemuan", "Log a meeting"),
    "nav.locations": ("Verifikasi lokasi", "Verify locations"),
    "nav.worklist": ("Daftar kerja", "Worklist"),
    "nav.dashboard": ("Dasbor", "Dashboard"),
    "nav.report": ("Laporan balik", "Report back"),
    "nav.login": ("Masuk petugas", "Staff login"),
    "nav.logout": ("Keluar", "Sign out"),
    "nav.password": ("Kata sandi", "Password"),
    "nav.accounts": ("Akun petugas", "Staff accounts"),
    "login.title": ("Masuk petugas", "Staff login"),
    "login.help": (
        "Lupa kata sandi? Minta admin atau atasan Anda mengatur ulang kata sandi.",
        "Forgot your password? Ask your admin or supervisor to reset it.",
    ),
    "login.username": ("Nama pengguna", "Username"),
    "login.password": ("Kata sandi", "Password"),
    "login.submit": ("Masuk", "Sign in"),
    "login.invalid": (
        "Nama pengguna atau kata sandi salah.",
        "Wrong username or password.",
    ),
    "login.expired": (
        "Waktu untuk mengganti kata sandi habis. Silakan masuk lagi.",
        "The time to choose a password ran out. Please sign in again.",
    ),
    "password.choose_title": ("Buat kata sandi baru", "Choose a new password"),
    "password.choose_help": (
        "Anda masuk dengan kata sandi sekali pakai. Buat kata sandi Anda sendiri untuk lanjut.",
        "You signed in with a one-time password. Choose your own password to continue.",
    ),
    "password.own_title": ("Ganti kata sandi", "Change password"),
    "password.current": ("Kata sandi sekarang", "Current password"),
    "password.new": ("Kata sandi baru", "New password"),
    "password.again": ("Ulangi kata sandi baru", "New password again"),
    "password.save": ("Simpan kata sandi", "Save password"),
    "password.rules": (
        "Minimal 10 karakter, tidak memuat nama pengguna, tidak berulang-ulang.",
        "At least 10 characters, not containing the username, not repetitive.",
    ),
    "password.mismatch": ("Kedua kata sandi baru tidak sama.", "The two new passwords differ."),
    "password.wrong_current": ("Kata sandi sekarang salah.", "The current password is wrong."),
    "password.changed": (
        "Kata sandi diganti. Sesi lain akun ini telah diakhiri.",
        "Password changed. The account's other sessions have ended.",
    ),
    "login.as": ("Masuk sebagai", "Logged in as"),
    "login.wrong_role": (
        "Halaman ini tidak tersedia untuk peran Anda.",
        "This page is not available for your role.",
    ),
    # staff accounts (follow-up admin pages)
    "role.officer": ("Petugas Polri", "Police officer"),
    "role.liaison": ("Penghubung instansi", "Agency liaison"),
    "role.supervisor": ("Atasan/pengawas", "Supervisor"),
    "role.admin": ("Admin", "Admin"),
    "admin.title": ("Akun petugas", "Staff accounts"),
    "admin.integrations": ("Token integrasi", "Integration tokens"),
    "admin.integrations_help": (
        "Untuk sistem lain: sistem milik instansi (mis. aplikasi pengaduan Pemda) yang "
        "mengirim pembaruan status sebagai penghubung instansi itu, atau aplikasi organisasi "
        "(desa, LSM, aplikasi warga) yang mengajukan aspirasi baru lewat Open311 (api_key). "
        "Token hanya ditampilkan sekali.",
        "For other systems: an agency's own system (e.g. a Pemda complaints app) that pushes "
        "status updates as that agency's liaison, or an organisation's app (village, NGO, "
        "civic app) that files new aspirations through Open311 (api_key). A token is shown "
        "only once.",
    ),
    "admin.purpose": ("Kegunaan", "Purpose"),
    "admin.purpose_short.liaison": ("Sistem instansi", "Agency system"),
    "admin.purpose_short.open311": ("Aplikasi Open311", "Open311 app"),
    "admin.purpose.liaison": (
        "Sistem instansi: pembaruan status kasus instansinya",
        "Agency system: status updates on its agency's cases",
    ),
    "admin.purpose.open311": (
        "Aplikasi Open311: mengajukan aspirasi baru (tanpa instansi)",
        "Open311 app: files new aspirations (no agency)",
    ),
    "admin.username": ("Nama pengguna", "Username"),
    "admin.display_name": ("Nama lengkap", "Full name"),
    "admin.role": ("Peran", "Role"),
    "admin.unit": ("Satuan (petugas, atasan)", "Unit (officers, supervisors)"),
    "admin.agency": ("Instansi (penghubung)", "Agency (liaisons)"),
    "admin.area": ("Wilayah (atasan; admin: nasional)", "Area (supervisors; admins: national)"),
    "admin.area_help": (
        "Atasan melihat kasus di wilayahnya: kode kecamatan, kabupaten/kota atau provinsi "
        "(mis. 36.04 untuk Kabupaten Serang), atau nasional untuk Mabes. Kosong: wilayah "
        "satuannya. Admin dengan wilayah nasional dapat membuka isi kasus; setiap akses dicatat.",
        "Supervisors see the cases of their area: a kecamatan, kabupaten/kota or province code "
        "(e.g. 36.04 for Kabupaten Serang), or national for headquarters. Empty: their unit's "
        "area. An admin with the national area can open case content; every access is recorded.",
    ),
    "admin.unit_help": (
        "Ketik nama satuan (mis. Polsek Cikande) atau kodenya (polsek-360415).",
        "Type the unit's name (e.g. Polsek Cikande) or its id (polsek-360415).",
    ),
    "identity.views": ("Siapa melihat identitas pelapor", "Who saw the reporter's identity"),
    "identity.none": ("Belum ada yang melihat.", "Nobody has seen it yet."),
    "identity.viewer": ("Siapa", "Who"),
    "identity.at": ("Kapan (UTC)", "When (UTC)"),
    "identity.via": ("Lewat", "Through"),
    "asp.title": ("Aspirasi", "Aspiration"),
    "asp.confidential": ("rahasia", "confidential"),
    "asp.reporter": ("Pelapor", "Reporter"),
    "asp.reporter_recorded": (
        "Tampilan identitas ini dicatat (siapa dan kapan) dan dapat dilihat atasan wilayah.",
        "This view of the identity is recorded (who and when) for the area's supervisor.",
    ),
    "asp.reporter_hidden": (
        "Identitas pelapor hanya untuk petugas satuannya dan atasan wilayahnya.",
        "The reporter's identity is for the unit's officers and the area's supervisors only.",
    ),
    "admin.scope": ("Satuan / instansi", "Unit / agency"),
    "admin.scope_help": (
        "Petugas Polri dan atasan memilih satuan; penghubung diikat ke instansi: ketik kodenya "
        "(jenis dan kode wilayah Kemendagri tanpa titik, mis. satpolpp-3275 untuk Satpol PP "
        "Kota Bekasi) atau pilih dari daftar instansi yang sudah menerima kasus.",
        "Officers and supervisors choose a unit; liaisons are bound to an agency: type its id "
        "(kind and Kemendagri region code without dots, e.g. satpolpp-3275 for Satpol PP Kota "
        "Bekasi) or pick one that has already received cases.",
    ),
    "admin.agency_help": (
        "Kode instansi, mis. dishub-3275 (Dinas Perhubungan Kota Bekasi).",
        "The agency id, e.g. dishub-3275 (Dinas Perhubungan Kota Bekasi).",
    ),
    "admin.state": ("Status", "State"),
    "admin.active": ("Aktif", "Active"),
    "admin.inactive": ("Nonaktif", "Deactivated"),
    "admin.revoked": ("Dicabut", "Revoked"),
    "admin.pending_password": ("menunggu kata sandi baru", "awaiting a new password"),
    "admin.none": ("Belum ada.", "None yet."),
    "admin.new": ("Akun baru", "New account"),
    "admin.create": ("Buat akun", "Create account"),
    "admin.save": ("Simpan", "Save"),
    "admin.created": ("Akun {username} dibuat.", "Account {username} created."),
    "admin.one_time": ("Kata sandi sekali pakai:", "One-time password:"),
    "admin.one_time_help": (
        "Sampaikan langsung ke pemilik akun. Kata sandi ini hanya tampil sekali dan harus "
        "diganti saat masuk pertama kali.",
        "Give it to the account's owner in person. It is shown only once and must be "
        "changed at the first sign-in.",
    ),
    "admin.reset": ("Atur ulang kata sandi", "Reset password"),
    "admin.deactivate": ("Nonaktifkan akun", "Deactivate account"),
    "admin.reactivate": ("Aktifkan kembali", "Reactivate account"),
    "admin.deactivate_help": (
        "Menonaktifkan atau mengatur ulang kata sandi langsung mengakhiri semua sesi akun "
        "ini di kedua layanan.",
        "Deactivating or resetting the password ends all of this account's sessions on "
        "both services at once.",
    ),
    "admin.ok.saved": ("Perubahan disimpan.", "Changes saved."),
    "admin.ok.nonaktifkan": ("Akun dinonaktifkan.", "Account deactivated."),
    "admin.ok.aktifkan": ("Akun diaktifkan kembali.", "Account reactivated."),
    "admin.ok.revoked": ("Token dicabut.", "Token revoked."),
    "admin.history": ("Riwayat akun", "Account history"),
    "admin.event.AccountCreated": ("Akun dibuat", "Account created"),
    "admin.event.AccountScopeChanged": ("Peran/lingkup diubah", "Role or scope changed"),
    "admin.event.PasswordReset": ("Kata sandi diatur ulang", "Password reset"),
    "admin.event.PasswordChanged": ("Kata sandi diganti pemilik", "Password changed by owner"),
    "admin.event.AccountDeactivated": ("Dinonaktifkan", "Deactivated"),
    "admin.event.AccountReactivated": ("Diaktifkan kembali", "Reactivated"),
    "admin.token_name": ("Nama sistem", "System name"),
    "admin.created_at": ("Dibuat", "Created"),
    "admin.last_used": ("Terakhir dipakai", "Last used"),
    "admin.revoke": ("Cabut", "Revoke"),
    "admin.new_token": ("Token baru", "New token"),
    "admin.create_token": ("Buat token", "Create token"),
    "admin.token_once": (
        "Salin token ini sekarang: token tidak akan ditampilkan lagi.",
        "Copy this token now: it will not be shown again.",
    ),
    "account.err.role_unknown": ("Peran tidak dikenal.", "Unknown role."),
    "account.err.unit_required": (
        "Petugas Polri harus terikat ke satuan.",
        "An officer acts for a unit: choose one.",
    ),
    "account.err.agency_required": (
        "Penghubung harus terikat ke instansi.",
        "A liaison acts for an agency: choose one.",
    ),
    "account.err.unit_unknown": ("Satuan tidak ada di direktori.", "Not a unit of the directory."),
    "account.err.purpose_unknown": ("Kegunaan tidak dikenal.", "Unknown purpose."),
    "account.err.agency_unknown": (
        "Instansi tidak ada di direktori rute.",
        "Not an agency of the routing directory.",
    ),
    "account.err.agency_not_for_role": (
        "Peran ini tidak terikat ke instansi.",
        "This role is not bound to an agency.",
    ),
    "account.err.unit_not_for_role": (
        "Peran ini tidak terikat ke satuan.",
        "This role is not bound to a unit.",
    ),
    "account.err.area_not_for_role": (
        "Hanya atasan dan admin yang diberi wilayah.",
        "Only supervisors and admins are given an area.",
    ),
    "account.err.area_unknown": (
        "Wilayah tidak dikenal: tulis nasional, atau kode provinsi, kabupaten/kota atau "
        "kecamatan (mis. 36.04).",
        "Unknown area: write national, or a province, kabupaten/kota or kecamatan code "
        "(e.g. 36.04).",
    ),
    "account.err.area_admin_national": (
        "Wilayah admin hanya nasional (akses isi kasus dicatat).",
        "An admin's only area is national (case content reads are recorded).",
    ),
    "account.err.area_or_unit_required": (
        "Atasan perlu satuan atau wilayah.",
        "A supervisor needs a unit or an area.",
    ),
    "account.err.username_format": (
        "3-40 karakter: huruf kecil, angka, '.', '_' atau '-'.",
        "3-40 characters: lowercase letters, digits, '.', '_' or '-'.",
    ),
    "account.err.username_taken": ("Nama pengguna sudah dipakai.", "This username is taken."),
    "account.err.required": ("Wajib diisi.", "Required."),
    "account.err.invalid_characters": (
        "Memuat karakter yang tidak diizinkan atau terlalu panjang.",
        "Contains characters that are not allowed, or is too long.",
    ),
    "account.err.own_role": (
        "Anda tidak dapat mengubah peran sendiri.",
        "You cannot change your own role.",
    ),
    "account.err.own_account": (
        "Anda tidak dapat menonaktifkan akun sendiri.",
        "You cannot deactivate your own account.",
    ),
    "account.err.no_account": ("Akun tidak ditemukan.", "No such account."),
    "account.err.no_token": ("Token tidak ditemukan.", "No such token."),
    "account.err.deactivated": ("Akun ini nonaktif.", "This account is deactivated."),
    "account.err.wrong_password": ("Kata sandi salah.", "Wrong password."),
    "account.err.no_change_pending": (
        "Tidak ada penggantian kata sandi yang menunggu.",
        "No password change is pending.",
    ),
    "account.err.password_short": (
        "Kata sandi minimal 10 karakter.",
        "At least 10 characters.",
    ),
    "account.err.password_has_username": (
        "Kata sandi tidak boleh memuat nama pengguna.",
        "Must not contain the username.",
    ),
    "account.err.password_repetitive": ("Kata sandi terlalu berulang.", "Too repetitive."),
    "error.title": ("Terjadi kendala", "Something went wrong"),
    "error.404": ("Halaman tidak ditemukan.", "Page not found."),
    "error.403": ("Anda tidak berhak membuka halaman ini.", "You may not open this page."),
    "error.400": (
        "Permintaan tidak dapat diproses. Muat ulang halaman lalu coba lagi.",
        "The request could not be processed. Reload the page and try again.",
    ),
    "error.429": (
        "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi.",
        "Too many attempts. Please wait a moment and try again.",
    ),
    "error.500": ("Terjadi kesalahan di server.", "A server error occurred."),
    "error.503": (
        "Layanan sedang tidak tersedia sebentar. Data Anda aman; coba lagi dalam beberapa detik.",
        "The service is briefly unavailable. Your data is safe; try again in a few seconds.",
    ),
    "error.back": ("Kembali ke beranda", "Back to the start"),
    # public tracking
    "track.title": ("Lacak aspirasi Anda", "Track your aspiration"),
    "track.help": (
        "Masukkan kode pelacakan yang Anda terima dari petugas, misalnya KA-7GQ4-M2.",
        "Enter the tracking code you received from the officer, e.g. KA-7GQ4-M2.",
    ),
    "track.code": ("Kode pelacakan", "Tracking code"),
    "track.submit": ("Lacak", "Track"),
    "track.invalid": (
        "Kode \u201c{code}\u201d tidak sesuai format. Periksa lagi huruf dan angkanya "
        "(contoh: KA-7GQ4-M2).",
        "The code \u201c{code}\u201d is not in the right format. Check the letters and digits "
        "(e.g. KA-7GQ4-M2).",
    ),
    "track.unknown": (
        "Kode \u201c{code}\u201d belum kami temukan. Jika aspirasi baru dicatat, coba lagi "
        "beberapa menit lagi, atau tanyakan ke petugas yang mencatatnya.",
        "We could not find the code \u201c{code}\u201d yet. If it was just recorded, try again "
        "in a few minutes or ask the officer who logged it.",
    ),
    "case.status": ("Status", "Status"),
    "case.category": ("Kategori", "Category"),
    "case.area": ("Wilayah", "Area"),
    "case.area_hidden": (
        "Tidak ditampilkan, untuk melindungi pelapor",
        "Not shown, to protect the reporter",
    ),
    "case.agency": ("Ditangani oleh", "Handled by"),
    "case.agency_none": ("Belum diteruskan", "Not forwarded yet"),
    "case.summary": ("Ringkasan", "Summary"),
    "case.deadlines": ("Batas waktu", "Deadlines"),
    "case.acknowledge_by": ("Tanggapan instansi paling lambat", "Agency response due"),
    "case.resolve_by": ("Penyelesaian paling lambat", "Resolution due"),
    "case.verify_by": ("Verifikasi paling lambat", "Verification due"),
    "case.overdue": ("Terlambat", "Overdue"),
    "case.timeline": ("Perjalanan aspirasi", "What has happened"),
    "case.timeline_empty": ("Belum ada perkembangan.", "Nothing has happened yet."),
    "case.print": ("Cetak / bagikan", "Print / share"),
    "case.share_wa": ("Bagikan lewat WhatsApp", "Share on WhatsApp"),
    "case.wa_text": (
        "Pantau aspirasi {code} di Kawal Aspirasi: {url}",
        "Follow aspiration {code} on Kawal Aspirasi: {url}",
    ),
    "case.scan": ("Pindai untuk melihat perkembangan", "Scan to see progress"),
    "case.printed_at": ("Dicetak", "Printed"),
    "case.print_now": ("Cetak halaman ini", "Print this page"),
    "case.back": ("Kembali ke halaman kasus", "Back to the case"),
    "case.private_note": (
        "Identitas pelapor tidak pernah ditampilkan di halaman ini.",
        "The reporter's identity is never shown on this page.",
    ),
    # officer logging
    "log.title": ("Catat pertemuan dan aspirasi", "Log a meeting and its aspirations"),
    "log.meeting": ("Pertemuan", "Meeting"),
    "log.kind": ("Jenis kegiatan", "Kind of meeting"),
    "log.held_at": ("Waktu", "When"),
    "log.kabupaten": ("Kabupaten/Kota", "Regency/City"),
    "log.kecamatan": ("Kecamatan", "District (kecamatan)"),
    "log.kelurahan": ("Kelurahan/Desa", "Village (kelurahan/desa)"),
    "log.rw": ("RW", "RW"),
    "log.rt": ("RT", "RT"),
    "log.address": ("Alamat/tempat", "Address/place"),
    "log.host": ("Petugas penyelenggara", "Hosting officer"),
    "log.partners": (
        "Mitra yang hadir (pisahkan dengan koma)",
        "Partners present (comma separated)",
    ),
    "log.attendees": ("Jumlah peserta", "Attendees"),
    "log.notes": ("Catatan", "Notes"),
    "log.start": ("Mulai catat aspirasi", "Start logging aspirations"),
    "log.aspiration": ("Aspirasi", "Aspiration"),
    "log.category": ("Kategori", "Category"),
    "log.summary": ("Ringkasan (internal)", "Summary (internal)"),
    "log.public_summary": ("Ringkasan untuk publik", "Public summary"),
    "log.public_summary_hint": (
        "Kosong: publik melihat kalimat netral sesuai kategori. Jangan tulis nama orang, "
        "tempat atau unit.",
        "Empty: the public sees a neutral sentence for the category. Name no person, "
        "place or unit.",
    ),
    "log.public_summary_required": (
        "Wajib untuk kategori sensitif atau aspirasi yang dirahasiakan: tulis satu kalimat "
        'untuk publik tanpa nama orang, tempat atau unit (mis. "Informasi telah diteruskan '
        'ke Kepolisian.").',
        "Required for a sensitive category or a confidential aspiration: write one sentence "
        'for the public naming no person, place or unit (e.g. "The information was passed '
        'to the police.").',
    ),
    "log.description": ("Uraian (tidak dipublikasikan)", "Description (not public)"),
    "log.urgency": ("Mendesak", "Urgent"),
    "log.raised_by": ("Disampaikan oleh (rahasia)", "Raised by (confidential)"),
    "log.contact": ("Kontak (rahasia, opsional)", "Contact (confidential, optional)"),
    "log.confidential": ("Rahasiakan pelapor", "Keep the reporter confidential"),
    "log.backing": ("Jumlah warga yang mendukung", "Residents backing it"),
    "log.add": ("Tambah aspirasi", "Add aspiration"),
    "log.send": ("Kirim sekarang", "Send now"),
    "log.new_meeting": ("Pertemuan baru", "New meeting"),
    "log.queue": ("Antrean", "Queue"),
    "log.pending": ("belum terkirim", "not sent yet"),
    "log.sent": ("Terkirim", "Sent"),
    "log.offline": (
        "Tidak ada sinyal: catatan disimpan di ponsel dan dikirim otomatis saat online.",
        "Offline: entries are kept on this phone and sent automatically when back online.",
    ),
    "log.online": ("Online", "Online"),
    "log.codes": ("Kode pelacakan untuk warga", "Tracking codes for residents"),
    "log.codes_help": (
        "Berikan kode ini kepada warga (dicetak atau lewat WhatsApp).",
        "Hand these codes to residents (printed or by WhatsApp).",
    ),
    "log.error": ("Ditolak server", "Rejected by the server"),
    "log.nojs": (
        "Halaman ini membutuhkan JavaScript untuk menyimpan catatan saat offline.",
        "This page needs JavaScript to keep entries while offline.",
    ),
    "kind.ngopi_kamtibmas": ("Ngopi Kamtibmas", "Ngopi Kamtibmas"),
    "kind.ngariung": ("Ngariung", "Ngariung"),
    "kind.patroli_sambang": ("Patroli sambang", "Home-visit patrol"),
    "kind.patroli_stasioner": ("Patroli stasioner", "Static patrol"),
    "kind.jumat_curhat": ("Jumat Curhat", "Jumat Curhat"),
    "kind.other": ("Lainnya", "Other"),
    # staff pages (followup)
    "work.title": ("Daftar kerja instansi", "Agency worklist"),
    "work.empty": ("Tidak ada kasus yang menunggu.", "No cases waiting."),
    "work.due": ("Batas", "Due"),
    "work.code": ("Kode", "Code"),
    "work.actions": ("Tindakan", "Actions"),
    "work.acknowledge": ("Terima", "Acknowledge"),
    "work.progress": ("Catat perkembangan", "Note progress"),
    "work.public": ("tampilkan ke publik", "show to the public"),
    "work.resolve": ("Nyatakan selesai", "Resolve"),
    "work.decline": ("Bukan kewenangan kami", "Not ours (decline)"),
    "work.verify_title": ("Verifikasi penyelesaian", "Verify resolutions"),
    "work.confirm": ("Benar, sudah selesai", "Confirm: it is resolved"),
    "work.dispute": ("Belum selesai", "Dispute: not resolved"),
    "work.text": ("Keterangan", "Text"),
    "work.done": ("Tersimpan.", "Saved."),
    "work.refused": ("Ditolak: {message}", "Refused: {message}"),
    "dash.title": ("Dasbor pengawas", "Supervisor dashboard"),
    "dash.by_agency": ("Per instansi", "Per agency"),
    "dash.by_category": ("Per kategori", "Per category"),
    "dash.unverified": ("Lokasi belum terverifikasi", "Location not verified"),
    "dash.unverified_hint": (
        "Kasus terbuka yang kelurahan/desanya tidak cocok dengan daftar wilayah resmi. "
        "Perbaiki lokasinya di halaman Verifikasi lokasi (/lokasi) layanan pencatatan; kasus "
        "lalu diteruskan ke instansi wilayah itu.",
        "Open cases whose kelurahan/desa did not match the official region list. Fix the "
        "location on the intake service's Verify locations page (/lokasi); the case is then "
        "routed to that region's agencies.",
    ),
    "dash.code": ("Kode", "Code"),
    "case.unverified": ("lokasi belum terverifikasi", "location not verified"),
    "loc.title": ("Lokasi belum terverifikasi", "Locations not verified"),
    "loc.hint": (
        "Aspirasi yang kelurahan/desanya tidak cocok dengan daftar wilayah resmi. Pilih "
        "kelurahan/desa yang benar (atau isi kodenya, atau perbaiki namanya); kasusnya lalu "
        "diteruskan ke instansi wilayah itu.",
        "Aspirations whose kelurahan/desa did not match the official region list. Choose the "
        "right kelurahan/desa (or give its code, or correct its name); the case is then "
        "routed to that region's agencies.",
    ),
    "loc.empty": ("Semua lokasi sudah terverifikasi.", "Every location is verified."),
    "loc.typed": ("Dicatat", "Recorded"),
    "loc.choose": ("Kelurahan/desa di kecamatan ini", "Kelurahan/desa in this kecamatan"),
    "loc.code": ("Kode wilayah (Kemendagri)", "Region code (Kemendagri)"),
    "loc.reason": ("Alasan", "Reason"),
    "loc.reason_default": ("Lokasi diverifikasi", "Location verified"),
    "loc.fix": ("Perbaiki lokasi", "Fix the location"),
    "loc.done": ("Lokasi diperbarui:", "Location amended:"),
    "loc.refused": ("Ditolak: {message}", "Refused: {message}"),
    "dash.open": ("Terbuka", "Open"),
    "dash.overdue": ("Terlambat", "Overdue"),
    "dash.tta": ("Median waktu tanggap", "Median time to acknowledge"),
    "dash.ttr": ("Median waktu selesai", "Median time to resolve"),
    "dash.weekly": ("Per minggu: masuk dan selesai", "Per week: opened and resolved"),
    "dash.opened": ("Masuk", "Opened"),
    "dash.resolved": ("Selesai", "Resolved"),
    "dash.csv": ("Unduh CSV", "Download CSV"),
    "dash.hours": ("{n} jam", "{n} h"),
    "dash.none": ("-", "-"),
    "report.title": ("Laporan tindak lanjut", "Follow-up report"),
    "report.pick": (
        "Pilih kelurahan (dan RW) atau pertemuan untuk laporan balik.",
        "Choose a kelurahan (and RW) or a meeting for the report back.",
    ),
    "report.codes": (
        "atau kode pelacakan dari satu pertemuan (pisahkan dengan koma)",
        "or the tracking codes from one meeting (comma separated)",
    ),
    "report.hidden": (
        "{n} laporan rahasia (misalnya tawuran atau narkoba) ditangani tanpa dibacakan.",
        "{n} confidential reports (e.g. tawuran or narcotics) are handled but not read out.",
    ),
    "report.link": ("Laporan balik pertemuan ini", "Report back for this meeting"),
    "report.show": ("Tampilkan", "Show"),
    "report.pdf": ("Unduh PDF", "Download PDF"),
    "report.count": ("{n} aspirasi", "{n} aspirations"),
    "report.none": ("Belum ada aspirasi tercatat di sini.", "No aspirations recorded here yet."),
    "dispute.title": ("Belum selesai? Sampaikan keberatan", "Not fixed? Dispute the resolution"),
    "dispute.reason": ("Apa yang belum selesai?", "What is not fixed?"),
    "dispute.submit": ("Kirim keberatan", "Send the dispute"),
    "dispute.done": (
        "Keberatan Anda tercatat; kasus dikembalikan ke instansi.",
        "Your dispute is recorded; the case goes back to the agency.",
    ),
    "dispute.bad": (
        "Keberatan tidak dapat dicatat untuk kasus ini.",
        "The dispute could not be recorded for this case.",
    ),
    "csrf.failed": (
        "Formulir kedaluwarsa. Muat ulang halaman lalu kirim lagi.",
        "The form expired. Reload the page and send it again.",
    ),
    # --- public report cards (/rapor, followup_service/report_cards) ---
    "nav.rapor": ("Rapor wilayah", "Report cards"),
    "rapor.title_national": (
        "Rapor tindak lanjut aspirasi: Indonesia",
        "Follow-up report card: Indonesia",
    ),
    "rapor.title": ("Rapor {name}", "Report card: {name}"),
    "rapor.intro": (
        "Seberapa cepat instansi di tiap wilayah menanggapi dan menyelesaikan aspirasi warga.",
        "How quickly the agencies of each area answer and resolve residents' aspirations.",
    ),
    "rapor.crumbs": ("Wilayah di atasnya", "Areas above"),
    "rapor.period": (
        "Periode: semua kasus publik sejak {since}.",
        "Period: every public case since {since}.",
    ),
    "rapor.computed": (
        "Dihitung {at}; diperbarui tiap beberapa menit.",
        "Computed {at}; refreshed every few minutes.",
    ),
    "rapor.not_computed": ("Angka belum dihitung.", "Figures not computed yet."),
    "rapor.how": ("Cara menghitung", "How it is computed"),
    "rapor.received": ("Kasus diterima", "Cases received"),
    "rapor.ack_pct": ("Ditanggapi tepat waktu", "Acknowledged within deadline"),
    "rapor.median_ack": (
        "Median hari kerja sampai ditanggapi",
        "Median working days to acknowledge",
    ),
    "rapor.median_resolve": ("Median hari kerja sampai selesai", "Median working days to resolve"),
    "rapor.verified_pct": ("Selesai dan terverifikasi", "Resolved and verified"),
    "rapor.disputed_pct": ("Dibantah atau dibuka lagi", "Disputed or reopened"),
    "rapor.open": ("Masih terbuka", "Open now"),
    "rapor.overdue": ("Terlambat", "Overdue"),
    "rapor.overdue_mark": ("terlambat", "overdue"),
    "rapor.weekly": (
        "Kasus dibuka dan ditutup per minggu (26 minggu)",
        "Cases opened and closed per week (26 weeks)",
    ),
    "rapor.opened": ("Dibuka", "Opened"),
    "rapor.closed": ("Ditutup", "Closed"),
    "rapor.chart.weekly_title": ("Kasus per minggu di {name}", "Cases per week in {name}"),
    "rapor.chart.week_text": (
        "minggu {week}: dibuka {opened}, ditutup {closed}",
        "week of {week}: opened {opened}, closed {closed}",
    ),
    "rapor.chart.ack_title": (
        "Ditanggapi tepat waktu per instansi",
        "Acknowledged within deadline by agency",
    ),
    "rapor.by_province": ("Per provinsi dan kabupaten/kota", "By province and kabupaten/kota"),
    "rapor.by_province_caption": (
        "Kasus, persentase ditanggapi tepat waktu dan median hari kerja sampai selesai",
        "Cases, share acknowledged within deadline and median working days to resolve",
    ),
    "rapor.by_agency": ("Per instansi", "By agency"),
    "rapor.by_agency_caption": ("Angka per instansi", "Figures by agency"),
    "rapor.by_category": ("Per kategori", "By category"),
    "rapor.by_category_caption": ("Angka per kategori", "Figures by category"),
    "rapor.by_area": ("Per wilayah", "By area"),
    "rapor.by_area_caption": ("Angka per wilayah di bawahnya", "Figures by the areas within"),
    "rapor.area": ("Wilayah", "Area"),
    "rapor.agency": ("Instansi", "Agency"),
    "rapor.category": ("Kategori", "Category"),
    "rapor.code": ("Kode lacak", "Tracking code"),
    "rapor.age": ("Umur (hari kerja)", "Age (working days)"),
    "rapor.slowest": ("Kasus terbuka paling lama", "Slowest open cases"),
    "rapor.slowest_caption": (
        "Kasus publik yang masih terbuka, yang terlama dulu (maksimal 10)",
        "Public cases still open, oldest first (at most 10)",
    ),
    "rapor.none": ("Belum ada kasus publik.", "No public cases yet."),
    "rapor.empty": ("Belum ada kasus publik di wilayah ini.", "No public cases in this area yet."),
    "rapor.open_data": ("Data terbuka", "Open data"),
    "rapor.cases_csv": ("Daftar kasus (CSV, per 1.000)", "Case list (CSV, 1,000 a page)"),
    "rapor.method_title": ("Cara menghitung", "How the figures are computed"),
    "rapor.method.received": (
        "Kasus diterima: kasus publik yang dibuka di wilayah ini sejak awal, per instansi yang "
        "memegangnya sekarang atau terakhir, dan per kategori.",
        "Cases received: public cases opened in the area since the start, by the agency that "
        "holds it now or held it last, and by category.",
    ),
    "rapor.method.ack": (
        "Ditanggapi tepat waktu: dari kasus yang tanggapannya sudah jatuh tempo, bagian yang "
        "ditanggapi pertama kali sebelum tenggat yang berlaku dan tanpa tenggat yang terlewat.",
        "Acknowledged within deadline: of the cases whose acknowledgement was due, the share "
        "first acknowledged before the deadline in force and with no deadline missed before.",
    ),
    "rapor.method.median": (
        "Median hari kerja: dari diteruskan ke instansi sampai tanggapan pertama / laporan "
        "selesai pertama; Senin-Jumat kecuali libur nasional, waktu Jakarta.",
        "Median working days: from the first routing to an agency to the first "
        "acknowledgement / first reported resolution; Monday to Friday except public "
        "holidays, Jakarta time.",
    ),
    "rapor.method.verified": (
        "Selesai dan terverifikasi: ditutup sebagai selesai dan terverifikasi, dari kasus "
        "diterima.",
        "Resolved and verified: closed as resolved and verified, of cases received.",
    ),
    "rapor.method.disputed": (
        "Dibantah atau dibuka lagi: penyelesaiannya pernah dibantah atau kasusnya dibuka lagi, "
        "dari kasus diterima.",
        "Disputed or reopened: a resolution was disputed or the case reopened at least once, "
        "of cases received.",
    ),
    "rapor.method.open": (
        "Masih terbuka dan terlambat: pada saat dihitung; terlambat berarti instansi memegangnya "
        "melewati tenggat berikutnya.",
        "Open now and overdue: at the time of computing; overdue means an agency holds it past "
        "its next deadline.",
    ),
    "rapor.method.weekly": (
        "Per minggu: Senin-Minggu waktu Jakarta, 26 minggu terakhir termasuk minggu ini; "
        "ditutup dihitung pada penutupan terakhir.",
        "Per week: Monday to Sunday, Jakarta time, the last 26 weeks including this one; a "
        "closing counts at the case's last closing.",
    ),
    "rapor.method.small": (
        "Angka kecil: jumlah 1-4, dan persentase atau median dari kurang dari 5 kasus, "
        'ditampilkan "< 5" agar satu laporan tidak dapat dikenali.',
        "Small numbers: counts of 1-4, and shares or medians over fewer than 5 cases, show "
        '"< 5" so a single report cannot be singled out.',
    ),
    "rapor.method.privacy": (
        "Kategori sensitif (mis. tawuran, narkoba, politik uang) dan aspirasi rahasia tidak "
        "masuk angka atau daftar mana pun.",
        "Sensitive categories (e.g. tawuran, narcotics, money politics) and confidential "
        "aspirations are left out of every figure and list.",
    ),
    "rapor.licence": (
        "Angka dan daftar ini data terbuka dengan lisensi",
        "These figures and lists are open data under",
    ),
    "rapor.licence_regions": (
        "Nama dan kode wilayah: idn-area-data 4.0.1 (ODbL).",
        "Region names and codes: idn-area-data 4.0.1 (ODbL).",
    ),
}
