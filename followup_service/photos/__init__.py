"""Case photos on the follow-up side (issue 25): the public's and staff's views, proof
photos, removal on an erasure request. The rules are in api.py's docstring.

    tables.py    case_photos, the read model of the cases' PhotoAttached/PhotoRemoved
    api.py       the API routes, blob serving by the rules, proof uploads, removal
    pages.py     the worklist's proof photo and "Hapus foto" forms (/kerja)

The photo rules of a case (how many proof photos, who may remove which) are the case's:
followup_service/domain/case.py. Decoding, re-encoding and the stores are shared with
intake: shared/photos/. Kept import-free: followup_service.tables imports tables.py.
"""
