// Retort and <iostream>, for snippets that print.
#pragma once
#include <retort/retort.hpp>

#include <iostream>
