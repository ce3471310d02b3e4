"""Small pieces shared by methods: selection of pseudo labels, agreement, (later) losses and augmentation."""
