// Symbol visibility for libretort. The library is built with -fvisibility=hidden so that only
// what is marked here forms its ABI; plugins link against exactly these symbols.
#pragma once

#define RETORT_API __attribute__((visibility("default")))
