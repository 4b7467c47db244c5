public enum DifferentialHarnessPlaceholder {}
