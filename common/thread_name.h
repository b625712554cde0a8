// Names the calling thread (at most 15 characters), so that `top -H`,
// `perf` and gdb show what each of saalbuchd's threads is for.
#pragma once

#include <pthread.h>

namespace saalbuch {

inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace saalbuch
