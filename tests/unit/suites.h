/* suites.h: every Check suite of the unit-test runner. */
#ifndef OTTRECON_TEST_SUITES_H
#define OTTRECON_TEST_SUITES_H

#include <check.h>

Suite *timeutil_suite(void);
Suite *value_suite(void);
Suite *config_suite(void);
Suite *layout_suite(void);
Suite *reader_suite(void);
Suite *transport_suite(void);

#endif
