// What a snippet of the documents may assume by default: Retort's whole public API.
#pragma once
#include <retort/retort.hpp>
