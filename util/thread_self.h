/* Which thread runs: a value unique among live threads, read without a
 * call. The owner check on every API entry costs a load, not a trip
 * through pthread_self's PLT stub. */
#ifndef TERN_THREAD_SELF_H
#define TERN_THREAD_SELF_H

#include <pthread.h>
#include <stdint.h>

static inline uintptr_t tni_thread_self(void)
{
#if defined(__x86_64__)
	/* The x86-64 TLS ABI keeps the thread pointer's own value at %fs:0. */
	uintptr_t tp;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
#elif defined(__aarch64__)
	return (uintptr_t)__builtin_thread_pointer();
#else
	return (uintptr_t)pthread_self();
#endif
}

#endif
