/*-------------------------------------------------------------------------
 *
 * sanitize_preload.c
 *		Preloaded after the AddressSanitizer runtime by `make test SANITIZE=1`
 *		(scripts/cluster.sh, perps_asan_preload) so that Debian's
 *		uninstrumented postgres runs under ASAN, and UBSan in a backend
 *		honours UBSAN_OPTIONS.
 *
 * 1. swift_demangle.  Without it `LD_PRELOAD=libasan.so postgres -V` hangs
 *    in main, in bindtextdomain, waiting for glibc's _nl_state_lock:
 *
 *    A preloaded library that nothing depends on has its initializer run
 *    last, just before main, so the ASAN runtime initialises lazily, on the
 *    first call that reaches one of its interceptors.  In postgres that is
 *    the malloc() inside bindtextdomain("libgpg-error") (or "gnutls30", or
 *    p11-kit's newlocale()), run by a library constructor while glibc holds
 *    _nl_state_lock (or __libc_setlocale_lock) for writing.  During its
 *    initialisation the runtime looks up the optional Swift demangler,
 *    dlsym(RTLD_DEFAULT, "swift_demangle"), and clears the failure with
 *    dlerror().  dlerror() translates the message with dcgettext(), which
 *    read-locks the same locks: the read lock by the thread that holds the
 *    write lock fails with EDEADLK (ignored), and the matching unlock
 *    releases the *write* lock; when bindtextdomain then unlocks, the
 *    reader count underflows.  The next writer, postgres's own
 *    bindtextdomain in set_pglocale_pgservice(), waits forever.
 *
 *    Any binary linked with libgnutls or libgpg-error hangs the same way
 *    (psql, initdb); a test program that calls bindtextdomain from main does
 *    not, since ASAN is initialised by then.  gcc 12's libasan and clang
 *    14's runtime behave alike.  Defining swift_demangle makes the lookup
 *    succeed, so dlerror() has nothing to translate and the initialisation
 *    takes no glibc lock.  It returns NULL, "not a Swift name": reports fall
 *    back to the C++ demangler.
 *
 * 2. __ubsan_default_options.  The sanitizer runtimes read their options
 *    from /proc/self/environ, not from environ.  ASAN does so in the
 *    postmaster, before anything forks; libubsan (loaded with perps_stats.so)
 *    initialises on the first check that fires, in a backend, and by then
 *    postgres has overwritten that memory with the process title
 *    ("postgres: checkpointer ...").  UBSan would then run with its defaults:
 *    no stack trace, no abort.  libubsan asks this hook for default options;
 *    getenv() still works in a backend (postgres moved environ before
 *    overwriting the original).
 *
 *    UBSan's log_path cannot work here: libubsan's initialisation calls
 *    __sanitizer_set_report_path(), which binds to libasan's copy (both
 *    runtimes export it, libasan comes first), so it sets ASAN's report path
 *    while UBSan keeps writing to stderr, the server log.  test/run.sh gives
 *    both the same log_path and looks for UBSan's reports in postgres.log.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

char	   *swift_demangle(const char *mangled, size_t mangled_len,
						   char *out, size_t *out_len, uint32_t flags);
const char *__ubsan_default_options(void);

char *
swift_demangle(const char *mangled, size_t mangled_len,
			   char *out, size_t *out_len, uint32_t flags)
{
	return NULL;
}

const char *
__ubsan_default_options(void)
{
	const char *options = getenv("UBSAN_OPTIONS");

	return options ? options : "";
}
