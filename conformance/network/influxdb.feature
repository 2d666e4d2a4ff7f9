@stand:summit-loaded @network-faults
Feature: The USDF's InfluxDB unreachable
  The sink's writes to the EFD go into a blackhole for 30 s: connections
  stay open and nothing comes back. The sink holds back: it commits no
  offset for what it could not write, retries, and once the InfluxDB is
  reachable again writes everything, once.

  Background:
    Given the stand is up

  Scenario: The USDF's InfluxDB blackholed for 30 s: the sink holds back and loses nothing
    When Test:1 publishes "scalars" at 10 Hz for 45 s on domain 0 in the background
    And ATDome publishes "position" at 10 Hz for 45 s on domain 0 in the background
    And 5 s pass
    And the InfluxDB at "usdf" is blackholed for 30 s
    Then every sample published in this scenario is in database "efd" at "usdf" exactly once within 90 s
    And the catch-up after the InfluxDB at "usdf" healed took at most 30 s
