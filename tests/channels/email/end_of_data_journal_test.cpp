// The journal that tells a mail which may have been taken from one that cannot have been, across
// a process that died: what one instance marked, the next one reads.
#include "channels/email/end_of_data_journal.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace duijie::channels::email {
namespace {

using State = EndOfDataJournal::State;

TEST(EndOfDataJournal, WhatOneProcessMarkedTheNextReads) {
  test::TempDir dir;
  const std::string path = dir.File("journal");
  {
    EndOfDataJournal j(path);
    EXPECT_TRUE(j.Usable());
    j.Mark(41);
    j.MarkTaken(41);
    j.Mark(42);
    EXPECT_EQ(j.Of(41), State::kTaken);
    EXPECT_EQ(j.Of(42), State::kEnded);
    EXPECT_EQ(j.Of(43), State::kUnseen);
  }
  // A write cut short by the kill: not an id, and nothing else lost.
  std::ofstream(path, std::ios::app) << "4";
  EndOfDataJournal next(path);
  EXPECT_EQ(next.Of(41), State::kTaken);
  EXPECT_EQ(next.Of(42), State::kEnded);
  EXPECT_EQ(next.Of(4), State::kUnseen);
  EXPECT_EQ(next.Of(43), State::kUnseen);
  next.Mark(43);
  EXPECT_EQ(EndOfDataJournal(path).Of(43), State::kEnded) << "not glued to the torn line";
}

TEST(EndOfDataJournal, RotatesKeepingTheGenerationBefore) {
  test::TempDir dir;
  const std::string path = dir.File("journal");
  {
    EndOfDataJournal j(path, 64);  // about ten ids a generation
    for (int id = 1000; id < 1030; ++id) j.Mark(id);
    EXPECT_EQ(j.Of(1029), State::kEnded);
    EXPECT_EQ(j.Of(1020), State::kEnded) << "the generation before is kept";
    EXPECT_EQ(j.Of(1000), State::kUnseen) << "older ones are let go";
  }
  EndOfDataJournal next(path, 64);
  EXPECT_EQ(next.Of(1029), State::kEnded);
  EXPECT_EQ(next.Of(1020), State::kEnded);
}

TEST(EndOfDataJournal, AJournalThatCannotBeWrittenCallsEveryMailMaybeTaken) {
  EndOfDataJournal j("/nonexistent-dir/journal");
  EXPECT_FALSE(j.Usable());
  EXPECT_EQ(j.Of(1), State::kEnded) << "the safe side: never resent";
}

}  // namespace
}  // namespace duijie::channels::email
