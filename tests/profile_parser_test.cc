#include "control/profile_parser.h"
