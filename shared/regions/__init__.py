"""Indonesia's administrative regions (provinsi > kabupaten/kota > kecamatan > kelurahan/desa)."""
