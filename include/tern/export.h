/* What libtern exports: exactly the functions the public headers declare
 * with TERN_API. Everything else is built hidden (meson.build), and
 * internal names carry the prefix tni_, so neither the shared nor the
 * static library claims a name an application may use. */
#ifndef TERN_EXPORT_H
#define TERN_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define TERN_API __attribute__((visibility("default")))
#else
#define TERN_API
#endif

#endif
