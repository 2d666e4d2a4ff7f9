@network-faults
Feature: Faults between and at the sites delay delivery but lose nothing
  The link between the summit and the USDF goes down or gets slow, and the
  USDF's registry restarts: samples arrive late, each exactly once.

  Background:
    Given the stand is up

  Scenario: A link outage between the sites delays but loses nothing
    When Test:1 publishes "scalars" at 20 Hz for 4 s on domain 0 in the background
    And 1 s pass
    And the link from "summit" to "usdf" is down for 2 s
    Then every sample of Test:1 "scalars" is in database "efd" at "usdf" exactly once within 30 s
    And end-to-end latency p99 of Test:1 "scalars" is above 1 s

  Scenario: A slow link shows in the latency
    Given the link from "summit" to "usdf" is slowed by 300 ms
    When ATDome publishes "position" at 10 Hz for 2 s on domain 0
    Then every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" exactly once within 20 s
    And end-to-end latency p50 of ATDome "position" is above 300 ms
    And latency p50 of ATDome "position" to "→kafka@summit" is below 300 ms
    And latency p50 of ATDome "position" to "→kafka@usdf" is above 300 ms
    And the link from "summit" to "usdf" is slowed by 0 ms

  Scenario: A registry outage at the USDF delays the sink but loses nothing
    When the registry at "usdf" goes down
    And Test:1 publishes "logevent_arrays" at 5 Hz for 1 s on domain 0
    And 1 s pass
    And the registry at "usdf" comes back
    Then every sample of Test:1 "logevent_arrays" is in database "efd" at "usdf" exactly once within 30 s
    And end-to-end latency p99 of Test:1 "logevent_arrays" is above 1 s
