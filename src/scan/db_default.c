/*
 * scan_db_open: the built-in rule table (src/scan/rules.c). Kept apart from db.c, the only
 * reference to SCAN_RULES, so code and tests that compile their own tables with
 * scan_db_open_rules() link without the rule table.
 */
#include "scan/scan.h"

int
scan_db_open(struct scan_db **out, char err[static SCAN_ERR_MAX])
{
	return scan_db_open_rules(SCAN_RULES, SCAN_RULES_COUNT, out, err);
}
