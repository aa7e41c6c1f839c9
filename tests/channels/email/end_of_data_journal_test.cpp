// The journal that tells a mail which may have been taken from one that cannot have been, across
// a process that died: what one instance marked, the next one reads.
#include "channels/email/end_of_data_journal.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace duijie::channels::email {
namespace {

TEST(EndOfDataJournal, WhatOneProcessMarkedTheNextReads) {
  test::TempDir dir;
  const std::string path = dir.File("journal");
  {
    EndOfDataJournal j(path);
    EXPECT_TRUE(j.Usable());
    j.Mark(41);
    j.Mark(42);
    EXPECT_TRUE(j.Marked(42));
    EXPECT_FALSE(j.Marked(43));
  }
  // A write cut short by the kill: not an id, and nothing else lost.
  std::ofstream(path, std::ios::app) << "4";
  EndOfDataJournal next(path);
  EXPECT_TRUE(next.Marked(41));
  EXPECT_TRUE(next.Marked(42));
  EXPECT_FALSE(next.Marked(4));
  EXPECT_FALSE(next.Marked(43));
  next.Mark(43);
  EXPECT_TRUE(EndOfDataJournal(path).Marked(43)) << "not glued to the torn line";
}

TEST(EndOfDataJournal, RotatesKeepingTheGenerationBefore) {
  test::TempDir dir;
  const std::string path = dir.File("journal");
  {
    EndOfDataJournal j(path, 64);  // about ten ids a generation
    for (int id = 1000; id < 1030; ++id) j.Mark(id);
    EXPECT_TRUE(j.Marked(1029));
    EXPECT_TRUE(j.Marked(1020)) << "the generation before is kept";
    EXPECT_FALSE(j.Marked(1000)) << "older ones are let go";
  }
  EndOfDataJournal next(path, 64);
  EXPECT_TRUE(next.Marked(1029));
  EXPECT_TRUE(next.Marked(1020));
}

TEST(EndOfDataJournal, AJournalThatCannotBeWrittenCallsEveryMailMaybeTaken) {
  EndOfDataJournal j("/nonexistent-dir/journal");
  EXPECT_FALSE(j.Usable());
  EXPECT_TRUE(j.Marked(1)) << "the safe side: never resent";
}

}  // namespace
}  // namespace duijie::channels::email
