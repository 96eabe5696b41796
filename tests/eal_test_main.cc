// main() of the EAL test binaries: one EAL per process, started once for all tests.
#include <gtest/gtest.h>

#include "tests/eal_environment.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new faultline::testing::EalEnvironment());
  return RUN_ALL_TESTS();
}
