// UniqueFd (control/base/unique_fd.h): one owner closes the descriptor, moves hand it over.
#include "control/base/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>

namespace faultline {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, ClosesWhenItsOwnerGoes) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  {
    UniqueFd read_end(ends[0]), write_end(ends[1]);
    EXPECT_TRUE(read_end.valid());
    EXPECT_EQ(read_end.get(), ends[0]);
    EXPECT_TRUE(IsOpen(ends[0]));
  }
  EXPECT_FALSE(IsOpen(ends[0]));
  EXPECT_FALSE(IsOpen(ends[1]));
}

TEST(UniqueFd, MoveHandsOverWithoutClosing) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  UniqueFd write_end(ends[1]);
  UniqueFd first(ends[0]);
  UniqueFd second(std::move(first));
  EXPECT_FALSE(first.valid());
  EXPECT_EQ(second.get(), ends[0]);
  EXPECT_TRUE(IsOpen(ends[0]));
  UniqueFd third;
  third = std::move(second);
  EXPECT_FALSE(second.valid());
  EXPECT_TRUE(IsOpen(ends[0]));
  third.reset();
  EXPECT_FALSE(third.valid());
  EXPECT_FALSE(IsOpen(ends[0]));
}

TEST(UniqueFd, MoveAssignmentClosesWhatItHeld) {
  int a[2], b[2];
  ASSERT_EQ(pipe(a), 0);
  ASSERT_EQ(pipe(b), 0);
  UniqueFd a_write(a[1]), b_write(b[1]);
  UniqueFd held(a[0]);
  held = UniqueFd(b[0]);
  EXPECT_FALSE(IsOpen(a[0]));
  EXPECT_EQ(held.get(), b[0]);
  EXPECT_TRUE(IsOpen(b[0]));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  UniqueFd write_end(ends[1]);
  int released = -1;
  {
    UniqueFd read_end(ends[0]);
    released = read_end.release();
    EXPECT_FALSE(read_end.valid());
  }
  EXPECT_TRUE(IsOpen(released));
  close(released);
}

}  // namespace
}  // namespace faultline
