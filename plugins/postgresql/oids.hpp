// Type OIDs of pg_type (catalog/pg_type_d.h is a server header, not part of libpq-dev).
#pragma once

#include <libpq-fe.h>

namespace retort::postgresql {

inline constexpr Oid bool_oid = 16;
inline constexpr Oid bytea_oid = 17;
inline constexpr Oid int8_oid = 20;
inline constexpr Oid int2_oid = 21;
inline constexpr Oid int4_oid = 23;
inline constexpr Oid oid_oid = 26;
inline constexpr Oid float4_oid = 700;
inline constexpr Oid float8_oid = 701;

} // namespace retort::postgresql
