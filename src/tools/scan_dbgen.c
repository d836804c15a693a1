/*
 * scan_dbgen OUT.c: compiles the built-in rule database exactly as scan_db_open() does and writes
 * a C file defining scan_db_blob (hs_serialize_database's bytes), scan_db_blob_len and
 * scan_db_blob_digest (the digest of what was compiled, db.c hs_digest). Run by the build
 * (CMakeLists.txt); the output lives in the build dir, never in git. scan_db_open_rules() uses
 * the blob only when the digest of what it would compile is that one, so a stale blob (other
 * rules, another libhs, another platform) is compiled over, never used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"
#include "scan/scan_internal.h"

static int
write_blob(FILE *f, const unsigned char *b, size_t n, const uint8_t *d)
{
	size_t i;

	fprintf(f, "/* Generated at build time by scan_dbgen (src/tools/scan_dbgen.c): do not edit. */\n"
	    "#include <stddef.h>\n\n"
	    "extern const unsigned char scan_db_blob[];\n"
	    "extern const size_t scan_db_blob_len;\n"
	    "extern const unsigned char scan_db_blob_digest[%d];\n\n"
	    "_Alignas(64) const unsigned char scan_db_blob[%zu] = {", SCAN_DB_DIGEST_LEN, n);
	for (i = 0; i < n; i++)
		fprintf(f, "%s0x%02x,", i % 16 == 0 ? "\n\t" : " ", b[i]);
	fprintf(f, "\n};\nconst size_t scan_db_blob_len = %zu;\n"
	    "const unsigned char scan_db_blob_digest[%d] = {", n, SCAN_DB_DIGEST_LEN);
	for (i = 0; i < SCAN_DB_DIGEST_LEN; i++)
		fprintf(f, "%s0x%02x,", i % 16 == 0 ? "\n\t" : " ", d[i]);
	fprintf(f, "\n};\n");
	return ferror(f) ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX], *bytes = NULL, *tmp = NULL;
	uint8_t digest[SCAN_DB_DIGEST_LEN];
	size_t len = 0, tl;
	FILE *f = NULL;
	int r = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: scan_dbgen OUT.c\n");
		return 2;
	}
	if (scan_db_open(&db, err) != 0) {
		fprintf(stderr, "scan_dbgen: %s\n", err);
		return 1;
	}
	if (scan_db_prebuilt(db)) {
		fprintf(stderr, "scan_dbgen: linked with a prebuilt database: it must compile\n");
		goto out;
	}
	if (scan_db_serialize(db, &bytes, &len, digest) != 0) {
		fprintf(stderr, "scan_dbgen: cannot serialize the database\n");
		goto out;
	}
	tl = strlen(argv[1]) + 5;
	tmp = malloc(tl);
	if (tmp == NULL)
		goto out;
	snprintf(tmp, tl, "%s.tmp", argv[1]);
	if ((f = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "scan_dbgen: cannot create %s\n", tmp);
		goto out;
	}
	if (write_blob(f, (const unsigned char *)bytes, len, digest) != 0) {
		fprintf(stderr, "scan_dbgen: cannot write %s\n", tmp);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		fprintf(stderr, "scan_dbgen: cannot write %s\n", tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, argv[1]) != 0) {
		fprintf(stderr, "scan_dbgen: cannot rename %s\n", tmp);
		goto out;
	}
	r = 0;
 out:
	if (f != NULL)
		(void)fclose(f);
	if (r != 0 && tmp != NULL)
		(void)remove(tmp);
	free(tmp);
	free(bytes);
	scan_db_free(db);
	return r;
}
