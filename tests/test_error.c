/* Error codes: every code has its own message, tern's codes never collide
 * with -errno, and system errors map onto them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "drivers/driver.h"
#include "tern/error.h"

#define FIRST TERN_EINVAL
#define LAST TERN_ESYSTEM

Test(error, every_code_has_its_own_message)
{
	cr_assert_str_eq(tern_strerror(TERN_OK), "success");
	for (int c = FIRST; c >= LAST; c--) {
		const char *m = tern_strerror(c);
		cr_assert(m && *m && strcmp(m, "unknown error") != 0, "code %d", c);
		for (int d = FIRST; d > c; d--)
			cr_assert_str_neq(m, tern_strerror(d), "codes %d and %d share a message", c, d);
	}
	cr_assert_str_eq(tern_strerror(LAST - 1), "unknown error");
	cr_assert_str_eq(tern_strerror(-77777), "unknown error");
	cr_assert_str_eq(tern_strerror(-EINVAL), "unknown error", "-errno is not a tern code");
}

Test(error, codes_are_disjoint_from_errno)
{
	/* errno values are small positive numbers on every system (Linux's
	 * largest is 133, the BSDs' about 100). */
	cr_assert_leq(FIRST, -1000);
	cr_assert_eq(FIRST - LAST, TERN_EINVAL - TERN_ESYSTEM);
	int all[] = { TERN_EINVAL, TERN_ENOMEM, TERN_EAGAIN, TERN_EMSGSIZE, TERN_ENOTSUP, TERN_EADDRINUSE,
		      TERN_ETIMEDOUT, TERN_ECANCELED, TERN_EBUSY, TERN_EWRONGTHREAD, TERN_EPEERDEAD,
		      TERN_EPEERRESTART, TERN_ECLOSED, TERN_ENOSESSION, TERN_ENOHANDLER, TERN_EREMOTE,
		      TERN_ENOTOWNER, TERN_EBADARGS, TERN_EPROTO, TERN_ENODEV, TERN_EPERM, TERN_ESYSTEM };
	cr_assert_eq(sizeof(all) / sizeof(all[0]), (size_t)(FIRST - LAST + 1), "a code is missing from this list");
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cr_assert(all[i] <= FIRST && all[i] >= LAST);
}

Test(error, system_errors_map_to_tern_codes)
{
	cr_assert_eq(tni_error_from_errno(0), 0);
	cr_assert_eq(tni_error_from_errno(EINVAL), TERN_EINVAL);
	cr_assert_eq(tni_error_from_errno(-EINVAL), TERN_EINVAL, "either sign");
	cr_assert_eq(tni_error_from_errno(ENOMEM), TERN_ENOMEM);
	cr_assert_eq(tni_error_from_errno(EADDRINUSE), TERN_EADDRINUSE);
	cr_assert_eq(tni_error_from_errno(EADDRNOTAVAIL), TERN_ENODEV);
	cr_assert_eq(tni_error_from_errno(EPERM), TERN_EPERM);
	cr_assert_eq(tni_error_from_errno(EACCES), TERN_EPERM);
	cr_assert_eq(tni_error_from_errno(ENOSYS), TERN_ENOTSUP);
	for (int e = 1; e < 134; e++) {
		int c = tni_error_from_errno(e);
		cr_assert(c <= FIRST && c >= LAST, "errno %d became %d", e, c);
	}
}
