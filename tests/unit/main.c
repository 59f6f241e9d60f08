/* main.c: runs every unit-test suite; Check's summary line is the last thing printed. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(timeutil_suite());
	srunner_add_suite(sr, value_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, layout_suite());
	srunner_add_suite(sr, reader_suite());
	srunner_add_suite(sr, transport_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
