Feature: Adding a CSC to a running producer loses nothing
  Adding a CSC to a running producer is what the summit documents as
  "potentially very dangerous": it used to mean a restart. Here the CSC is
  added through the producer's admin API while another CSC streams, and
  neither loses a sample.

  Background:
    Given the stand is up

  Scenario: A CSC is added while another one streams
    When ATDome publishes "position" at 20 Hz for 3 s on domain 0 in the background
    And CSC "Test:2" is added to producer "summit-salkafka"
    And Test:2 publishes "scalars" at 10 Hz for 1 s on domain 0
    Then every sample of Test:2 "scalars" is in database "efd" at "usdf" exactly once within 20 s
    And producer "summit-salkafka" has read every sample of Test:2 "scalars"
    And every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 20 s
